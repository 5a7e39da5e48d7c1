"""Honest selection end to end: on markets without an edge nothing passes the default filter and the
hold-out shows no edge; on the planted-edge market the passers pass on the hold-out, whose numbers are a
plain backtest of the genome over the hold-out bars; trials are counted across runs.

The noise bound: a skill-less strategy's annualised Sharpe ratio over ``T`` daily returns has a standard
error of about ``sqrt(365 / T)`` (Lo 2002, ``Var(SR_day) ~ 1 / T`` at SR = 0). The top candidates by
search fitness are positively correlated, so their mean is at most as noisy as one of them: three
standard errors (about 2.1 for the 750-day hold-out here) bound it with 99.7% confidence.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mastertrade.engine.backtest.runner import backtest
from mastertrade.engine.generator.deflated import deflated_sharpe
from mastertrade.engine.generator.holdout import holdout_start
from mastertrade.engine.generator.pipeline import GenerationRequest, generate
from mastertrade.engine.market.sim import simulate
from mastertrade.engine.market.store import CandleStore, SeriesKey, rows_from_frame
from tests.generator.helpers import settings_with

END = 1_735_689_600_000
BARS = 3000
TOP = 10


def random_walk(bars: int, seed: int) -> pd.DataFrame:
    """A driftless Gaussian random walk of daily candles (2% daily volatility)."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, bars)))
    open_ = np.concatenate([[100.0], close[:-1]])
    spread = np.abs(rng.normal(0.0, 0.01, (2, bars)))
    index = pd.date_range(
        end=pd.Timestamp(END, unit="ms", tz="UTC") - pd.Timedelta(days=1), periods=bars, freq="1D"
    )
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * (1 + spread[0]),
            "low": np.minimum(open_, close) * (1 - spread[1]),
            "close": close,
            "volume": 1_000.0,
        },
        index=index.as_unit("ms").rename("time"),
    )


def shuffled(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The same bars in a random order: every bar keeps its own shape (open gap, high, low, close relative
    to its open), so volatility and fat tails stay, and any serial structure is destroyed."""
    rng = np.random.default_rng(seed)
    previous = np.concatenate([[frame["open"].iloc[0]], frame["close"].to_numpy()[:-1]])
    shape = np.column_stack(
        [
            frame["open"].to_numpy() / previous,
            frame["high"].to_numpy() / frame["open"].to_numpy(),
            frame["low"].to_numpy() / frame["open"].to_numpy(),
            frame["close"].to_numpy() / frame["open"].to_numpy(),
        ]
    )[rng.permutation(len(frame))]
    growth = shape[:, 0] * shape[:, 3]
    close = frame["open"].iloc[0] * np.cumprod(growth)
    open_ = close / shape[:, 3]
    return pd.DataFrame(
        {
            "open": open_,
            "high": open_ * shape[:, 1],
            "low": open_ * shape[:, 2],
            "close": close,
            "volume": frame["volume"].to_numpy(),
        },
        index=frame.index,
    )


async def run_on(db: Any, frame: pd.DataFrame, symbol: str, seed: int = 3) -> Any:
    await CandleStore(db).upsert(SeriesKey("sim", symbol, "1d"), rows_from_frame(frame))
    request = GenerationRequest(
        symbol=symbol, timeframe="1d", count=20, seed=seed, population=16, generations=4
    )
    return await generate(db, settings_with(), request)


def noise_bound(summary: Any) -> float:
    days = summary.strategies[0].out_of_sample["days"]
    return 3 * math.sqrt(365 / days)


@pytest.mark.parametrize("market", ["random walk", "shuffled returns"])
async def test_without_an_edge_nothing_passes_and_the_holdout_shows_no_edge(
    sqlite_db: Any, market: str
) -> None:
    if market == "random walk":
        frame = random_walk(BARS, seed=21)
    else:
        frame = shuffled(simulate("BTC/USDT", "1d", BARS, 7, end=END), seed=5)
    summary = await run_on(sqlite_db, frame, "NOISE/USDT")
    assert summary.counts["stored"] == 20 and summary.passed == []
    top = summary.strategies[:TOP]  # best by search fitness first
    searched = [s.search.get("sharpe") or 0.0 for s in top]
    held = [s.out_of_sample.get("sharpe") or 0.0 for s in top]
    bound = noise_bound(summary)
    assert bound == pytest.approx(3 * math.sqrt(365 / 750), rel=0.01)
    assert abs(float(np.mean(held))) < bound, (held, bound)
    # the search window flattered them; the hold-out does not (the selection bias the hold-out removes)
    assert float(np.mean(searched)) > float(np.mean(held))
    pbo = summary.selection["pbo"]
    assert pbo is not None and 0.0 <= pbo["pbo"] <= 1.0 and pbo["trials"] == 20


async def test_the_planted_edge_passes_on_the_holdout_as_a_plain_backtest_shows(sqlite_db: Any) -> None:
    symbol = "BTC-EDGE/USDT"
    frame = simulate(symbol, "1d", BARS, 7, end=END)
    summary = await run_on(sqlite_db, frame, symbol)
    assert summary.passed, [(s.out_of_sample.get("sharpe"), s.deflated_sharpe) for s in summary.strategies]
    holdout = frame.iloc[holdout_start(len(frame), 0.25) :]
    assert len(holdout) == 750
    for strategy in summary.passed:
        plain = backtest(strategy.genome, holdout, cash=10_000.0, fee=0.001).metrics()
        for key in ("start", "end", "bars", "trades", "sharpe", "return_pct", "max_drawdown_pct"):
            assert strategy.out_of_sample[key] == pytest.approx(plain[key], rel=1e-12), key
        assert strategy.out_of_sample["sharpe"] >= 1.0 and strategy.deflated_sharpe >= 0.95
        used = strategy.selection["deflated_trials"]
        assert used["trials"] == used["trials_used"] == summary.counts["distinct"]
        # V is the observed variance of every trial's per-day Sharpe ratio, and the stored DSR is the
        # formula's value with that N and V (about the sampling variance of a 750-bar Sharpe ratio:
        # the edge symbol's bars now move as much as BTC's, and its candidates' spread with them)
        assert used["variance_source"] == "observed"
        assert used["variance_used"] == used["sharpe_variance"] > 0.5 / (len(holdout) - 1)
        held = strategy.out_of_sample
        recomputed = deflated_sharpe(
            held["daily_mean"] / held["daily_std"],
            held["days"],
            held["daily_skew"],
            held["daily_kurtosis"],
            trials=used["trials_used"],
            variance=used["variance_used"],
        )
        assert strategy.deflated_sharpe == pytest.approx(recomputed, rel=1e-12)
    assert summary.selection["pbo"]["pbo"] < 0.5

    # a second night on the same bars counts the first night's trials too
    again = await run_on(sqlite_db, frame, symbol, seed=4)
    trials = again.selection["deflated_trials"]
    assert trials["trials"] == summary.counts["distinct"] + again.counts["distinct"]
    assert trials["batches"] == 2 and trials["this_run"] == again.counts["distinct"]
    assert all(s.selection["deflated_trials"]["trials"] == trials["trials"] for s in again.strategies)


async def test_the_demo_keeps_the_default_filter_and_its_edge_symbol_passes(sqlite_db: Any) -> None:
    from mastertrade.config import GeneratorSettings
    from mastertrade.engine.demo import HISTORY_BARS, SEED, SYMBOLS, TIMEFRAME, demo_settings
    from mastertrade.engine.market.sim import planted_edge

    settings = demo_settings()
    defaults = GeneratorSettings()
    for name in (
        "min_trades",
        "min_oos_sharpe",
        "min_deflated_sharpe",
        "max_drawdown_pct",
        "max_exposure_pct",
    ):
        assert getattr(settings.generator, name) == getattr(defaults, name), name
    edged = [symbol for symbol in SYMBOLS if planted_edge(symbol)]
    assert edged == ["BTC-EDGE/USDT"]
    frame = simulate(edged[0], TIMEFRAME, HISTORY_BARS, SEED, end=END)
    await CandleStore(sqlite_db).upsert(SeriesKey("sim", edged[0], TIMEFRAME), rows_from_frame(frame))
    request = GenerationRequest(symbol=edged[0], timeframe=TIMEFRAME, seed=1)
    summary = await generate(sqlite_db, settings, request)
    assert summary.passed and all(s.out_of_sample["window"] == "holdout" for s in summary.passed)
