"""THE parity property: the fast engine reproduces the reference engine (backtesting.py's
FractionalBacktest) on random strategies, with and without stops, on simulated data.

Required: the same trades (entry and exit bars, exit reasons, entry and exit prices and sizes to 1e-9
relative) and the same equity at every close to 1e-6 relative (so the final equity too). In practice
they agree to the last bit, because the fast kernel repeats backtesting.py's arithmetic.

Two sources of signals: random genomes (``tests.strategies.genomes``: the product's own random genome
generator driven by hypothesis) evaluated on cached indicators, which is what users and the generator
run; and random boolean arrays with random densities, for many more trades and stop exits per example.
The data is simulated, either as generated (each open equals the previous close) or with random gaps
between bars, so stops also fill at gapped opens.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mastertrade.engine.backtest.fast import run_fast
from mastertrade.engine.backtest.params import OrderParams, order_params
from mastertrade.engine.backtest.reference import run_reference
from mastertrade.engine.backtest.result import BacktestResult
from mastertrade.engine.market.sim import simulate
from mastertrade.engine.signals.evaluate import signals
from mastertrade.engine.signals.genome import Genome
from mastertrade.engine.signals.indicators import IndicatorCache
from tests.strategies import genomes

BARS = 900
END = 1_735_689_600_000  # 2025-01-01T00:00:00Z
DATASETS = [("BTC/USDT", 1, False), ("ETH/USDT", 2, True), ("SOL/USDT", 3, False), ("DOGE/USDT", 4, True)]
PARITY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def dataset(symbol: str, seed: int, gapped: bool) -> pd.DataFrame:
    frame = simulate(symbol, "1h", BARS, seed, end=END)
    if gapped:
        rng = np.random.default_rng(seed)
        frame["open"] *= np.exp(rng.normal(0.0, 0.006, BARS))
        frame["high"] = np.maximum(frame["high"], frame["open"])
        frame["low"] = np.minimum(frame["low"], frame["open"])
    return frame


@cache
def indicators(symbol: str, seed: int, gapped: bool) -> IndicatorCache:
    return IndicatorCache(dataset(symbol, seed, gapped))


def assert_same(fast: BacktestResult, reference: BacktestResult) -> None:
    a, b = fast.trades, reference.trades
    assert len(a) == len(b)
    assert np.array_equal(a.entry_bar, b.entry_bar)
    assert np.array_equal(a.exit_bar, b.exit_bar)
    assert np.array_equal(a.reason, b.reason)
    np.testing.assert_allclose(a.entry_price, b.entry_price, rtol=1e-9, atol=0)
    np.testing.assert_allclose(a.exit_price, b.exit_price, rtol=1e-9, atol=0)  # NaN for an open trade
    np.testing.assert_allclose(a.size, b.size, rtol=1e-9, atol=0)
    np.testing.assert_allclose(a.pnl, b.pnl, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(fast.equity, reference.equity, rtol=1e-6, atol=0)
    assert fast.metrics() == reference.metrics() or np.allclose(fast.metric_values, reference.metric_values)


datasets = st.sampled_from(DATASETS)
fees = st.sampled_from([0.0, 0.001, 0.0075])


@PARITY
@given(data=st.data(), stops=st.booleans(), dataset_key=datasets, fee=fees)
def test_engines_agree_on_random_genomes(
    data: st.DataObject, stops: bool, dataset_key: tuple[str, int, bool], fee: float
) -> None:
    genome: Genome = data.draw(genomes(stops=stops))
    entries, exits = signals(genome, indicators(*dataset_key))
    frame = dataset(*dataset_key)
    params = order_params(genome)
    assert bool(params.stop_loss or params.take_profit or params.trailing_stop) == stops
    assert_same(
        run_fast(frame, entries, exits, params, fee=fee),
        run_reference(frame, entries, exits, params, fee=fee),
    )


fractions = st.none() | st.floats(0.002, 0.08)


@PARITY
@given(
    data=datasets,
    fee=fees,
    seed=st.integers(0, 2**32 - 1),
    entry_rate=st.floats(0.005, 0.4),
    exit_rate=st.floats(0.0, 0.3),
    stop_loss=fractions,
    take_profit=fractions,
    trailing_stop=fractions,
    size=st.just(1.0) | st.floats(0.05, 1.0),
)
def test_engines_agree_on_random_signals(
    data: tuple[str, int, bool],
    fee: float,
    seed: int,
    entry_rate: float,
    exit_rate: float,
    stop_loss: float | None,
    take_profit: float | None,
    trailing_stop: float | None,
    size: float,
) -> None:
    rng = np.random.default_rng(seed)
    entries = rng.random(BARS) < entry_rate
    exits = rng.random(BARS) < exit_rate
    params = OrderParams(stop_loss, take_profit, trailing_stop, size)
    frame = dataset(*data)
    assert_same(
        run_fast(frame, entries, exits, params, fee=fee),
        run_reference(frame, entries, exits, params, fee=fee),
    )
