"""``research.backtest.backtest_series``, the one door for "signals on a loaded series, then an engine":
from bar 0 it is the plain backtest; from a later bar its signals still saw the whole history."""

from __future__ import annotations

import numpy as np
import pytest

from mastertrade.engine.backtest.fast import run_fast
from mastertrade.engine.backtest.params import order_params
from mastertrade.engine.backtest.runner import backtest
from mastertrade.engine.market.store import SeriesKey
from mastertrade.engine.research.backtest import backtest_series
from mastertrade.engine.research.series import Series
from mastertrade.engine.signals.builtins import builtin
from mastertrade.engine.signals.indicators import IndicatorCache
from mastertrade.engine.signals.strategy import Strategy
from tests.backtest.helpers import candles

KEY = SeriesKey("sim", "BTC/USDT", "1h")


def wave(n: int) -> list[tuple[float, float, float, float]]:
    closes = 100 + 10 * np.sin(np.arange(n) / 6.0)
    return [(c - 0.5, c + 1.0, c - 1.0, float(c)) for c in closes]


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_from_bar_zero_it_is_the_plain_backtest(engine: str) -> None:
    frame = candles(wave(300))
    genome = builtin("sma_cross", "BTC/USDT", "1h")
    door = backtest_series(genome, Series(KEY, frame), cash=10_000.0, fee=0.001, engine=engine)  # type: ignore[arg-type]
    plain = backtest(genome, frame, cash=10_000.0, fee=0.001, engine=engine)  # type: ignore[arg-type]
    assert door.begin == 0 and len(door.window) == 300
    assert door.result.metrics() == plain.metrics() and door.result.metrics()["trades"] > 0


def test_from_a_later_bar_the_signals_are_warm_over_the_whole_series() -> None:
    frame = candles(wave(300))
    strategy = Strategy.from_genome(builtin("ema_cross", "BTC/USDT", "1h"))
    door = backtest_series(strategy, Series(KEY, frame), cash=5_000.0, fee=0.002, begin=120)
    entries, exits = strategy.signals(IndicatorCache(frame))
    expected = run_fast(
        frame.iloc[120:], entries[120:], exits[120:], order_params(strategy), cash=5_000.0, fee=0.002
    )
    assert len(door.window) == 180 and door.window.index[0] == frame.index[120]
    assert np.array_equal(door.entries, entries) and np.array_equal(door.exits, exits)
    assert door.result.metrics() == expected.metrics()
