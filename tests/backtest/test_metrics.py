"""Metrics against hand computations, and their edge cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mastertrade.engine.backtest.metrics import METRIC_KEYS, day_last_bars
from mastertrade.engine.backtest.result import BacktestResult, TradeLog

DAY = 86_400_000
HOUR = 3_600_000
T0 = int(pd.Timestamp("2024-01-01T00:00:00Z").value // 1_000_000)


def trades(rows: list[tuple[int, int, float]]) -> TradeLog:
    """A trade log from (entry_bar, exit_bar, pnl); exit_bar -1 is a trade still open."""
    n = len(rows)
    return TradeLog(
        entry_bar=np.array([r[0] for r in rows], dtype=np.int64),
        exit_bar=np.array([r[1] for r in rows], dtype=np.int64),
        entry_price=np.ones(n),
        exit_price=np.ones(n),
        size=np.ones(n),
        pnl=np.array([r[2] for r in rows], dtype=np.float64),
        reason=np.zeros(n, dtype=np.int64),
    )


def result(
    equity: list[float], ts: list[int], log: TradeLog | None = None, cash: float = 100.0
) -> BacktestResult:
    return BacktestResult(
        engine="fast",
        ts=np.array(ts, dtype=np.int64),
        equity=np.array(equity, dtype=np.float64),
        trades=log or trades([]),
        cash=cash,
        fee=0.0,
    )


def test_daily_bars_by_hand() -> None:
    equity = [100.0, 110.0, 99.0, 121.0]
    equity.append(125.0)  # day 5: a position opened on day 4 is still open
    log = trades([(1, 1, 10.0), (2, 2, -5.0), (3, 3, 0.0), (4, -1, 4.0)])
    m = result(equity, [T0 + d * DAY for d in range(5)], log).metrics()
    assert list(m) == list(METRIC_KEYS)

    r = np.array([0.1, -0.1, 121 / 99 - 1, 125 / 121 - 1])  # returns between consecutive daily closes
    years = 4 / 365
    assert m["return_pct"] == pytest.approx(25.0)
    assert m["cagr_pct"] == pytest.approx((1.25 ** (1 / years) - 1) * 100)
    assert m["sharpe"] == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(365))
    assert m["sortino"] == pytest.approx(r.mean() / math.sqrt(0.01 / 4) * math.sqrt(365))
    assert m["max_drawdown_pct"] == pytest.approx((1 - 99 / 110) * 100)
    assert m["calmar"] == pytest.approx(m["cagr_pct"] / m["max_drawdown_pct"])
    assert m["trades"] == 3  # the open trade is not counted
    assert m["win_rate_pct"] == pytest.approx(100 / 3)  # a zero P&L is not a win
    assert m["profit_factor"] == pytest.approx(10 / 5)
    assert m["exposure_pct"] == pytest.approx(100 * 4 / 5)  # bars 1, 2, 3 and 4 (open to the end) of 5
    assert m["final_equity"] == 125.0
    assert (m["start"], m["end"], m["bars"]) == ("2024-01-01T00:00:00Z", "2024-01-05T00:00:00Z", 5)


def test_hourly_bars_resample_to_the_last_bar_of_each_utc_day() -> None:
    ts = [T0 + h * HOUR for h in range(72)]
    assert day_last_bars(np.array(ts)).tolist() == [23, 47, 71]
    equity = np.full(72, 100.0)
    equity[10] = 50.0  # an intraday dip: in the drawdown, invisible to daily returns
    equity[24:48] = 110.0
    equity[48:] = 104.5
    m = result(equity.tolist(), ts).metrics()
    r = np.array([0.1, 104.5 / 110 - 1])
    assert m["sharpe"] == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(365))
    assert m["sortino"] == pytest.approx(r.mean() / math.sqrt(r[1] ** 2 / 2) * math.sqrt(365))
    assert m["max_drawdown_pct"] == pytest.approx(50.0)
    assert m["cagr_pct"] == pytest.approx((1.045 ** (365 * 24 / 71) - 1) * 100)


def test_no_trades_gives_nulls_not_nan_or_infinity() -> None:
    m = result([100.0] * 5, [T0 + d * DAY for d in range(5)]).metrics()
    assert m["return_pct"] == 0.0 and m["cagr_pct"] == 0.0 and m["max_drawdown_pct"] == 0.0
    assert m["trades"] == 0 and m["exposure_pct"] == 0.0
    for key in ("sharpe", "sortino", "calmar", "win_rate_pct", "profit_factor"):
        assert m[key] is None, key


def test_only_winners_leave_profit_factor_null_and_one_bar_leaves_cagr_null() -> None:
    m = result([100.0, 101.0, 103.0], [T0 + d * DAY for d in range(3)], trades([(1, 2, 3.0)])).metrics()
    assert m["win_rate_pct"] == 100.0 and m["profit_factor"] is None
    assert m["sortino"] is None  # no losing day
    assert m["calmar"] is None  # no drawdown
    single = result([100.0], [T0]).metrics()
    assert single["cagr_pct"] is None and single["sharpe"] is None and single["bars"] == 1
