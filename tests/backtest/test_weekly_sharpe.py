"""Sharpe and Sortino ratios of bars longer than a day: weekly bars give one return a week, and
annualising those by sqrt(365) overstated the ratios 2.6-fold (a filter of Sharpe >= 1 let through a
strategy whose true ratio was 0.4). Daily and intraday bars keep sqrt(365)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mastertrade.engine.backtest.fast import run_fast
from mastertrade.engine.backtest.metrics import returns_per_year


def _frame(closes: np.ndarray, freq: str) -> pd.DataFrame:
    index = pd.date_range("2020-01-06", periods=len(closes), freq=freq, tz="UTC")
    opens = np.r_[closes[0], closes[:-1]]
    return pd.DataFrame(
        {
            "open": opens,
            "high": np.maximum(opens, closes) * 1.01,
            "low": np.minimum(opens, closes) * 0.99,
            "close": closes,
            "volume": 1.0,
        },
        index=index,
    )


def _held(frame: pd.DataFrame) -> dict[str, float]:
    hold = np.ones(len(frame), dtype=np.bool_)
    return run_fast(frame, hold, ~hold, cash=10_000.0, fee=0.0).metrics()


def _sharpe(equity_closes: np.ndarray, per_year: float) -> float:
    r = np.diff(equity_closes) / equity_closes[:-1]
    return float(r.mean() / r.std(ddof=1) * math.sqrt(per_year))


@pytest.mark.parametrize("freq, per_year", [("7D", 365 / 7), ("3D", 365 / 3)])
def test_bars_longer_than_a_day_are_annualised_by_the_returns_a_year_holds(
    freq: str, per_year: float
) -> None:
    rng = np.random.default_rng(2)
    closes = 20_000 * np.exp(np.cumsum(rng.normal(0.01, 0.08, 200)))
    metrics = _held(_frame(closes, freq))
    # bought at bar 2's open (= bar 1's close here, no fee): the equity stays at the cash over bars 0
    # and 1 (a first return of 0), then follows the closes
    equity = np.r_[closes[1], closes[1:]]
    assert metrics["sharpe"] == pytest.approx(_sharpe(equity, per_year), rel=1e-6)
    assert returns_per_year(199, 199 * 7 / 365) == pytest.approx(365 / 7)


def test_daily_and_hourly_bars_keep_365() -> None:
    rng = np.random.default_rng(3)
    closes = 100 * np.exp(np.cumsum(rng.normal(0.001, 0.03, 300)))
    daily = _held(_frame(closes, "1D"))
    assert daily["sharpe"] == pytest.approx(_sharpe(np.r_[closes[1], closes[1:]], 365), rel=1e-6)
    assert returns_per_year(299, 299 / 365) == 365.0
    # a few missing days do not change the factor
    assert returns_per_year(290, 299 / 365) == 365.0
    hourly = _frame(100 * np.exp(np.cumsum(rng.normal(0, 0.005, 24 * 60))), "1h")
    # held from bar 2's open (= bar 1's close, no fee): each UTC day's last close moves the equity
    day_closes = hourly["close"].to_numpy()[23::24]
    assert _held(hourly)["sharpe"] == pytest.approx(_sharpe(day_closes, 365), rel=1e-6)
