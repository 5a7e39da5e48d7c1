"""One backtest of one strategy on one candle series, with either engine.

A strategy here is anything with the order fields of a genome (``stop_loss``, ``take_profit``,
``trailing_stop``, ``size``) that can produce ``(entries, exits)`` from an indicator cache: a
``Genome`` (evaluated by ``signals.evaluate.signals``) or a loaded strategy object with a
``signals(cache)`` method (plugins).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from mastertrade.engine.backtest.params import OrderParams, order_params
from mastertrade.engine.backtest.result import DEFAULT_CASH, DEFAULT_FEE, BacktestResult
from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    from mastertrade.engine.signals.indicators import IndicatorCache

Engine = Literal["fast", "reference"]
ENGINES: tuple[Engine, ...] = ("fast", "reference")

BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


def strategy_signals(strategy: Any, cache: IndicatorCache) -> tuple[BoolArray, BoolArray]:
    """``(entries, exits)`` of a genome or of a strategy object with a ``signals(cache)`` method."""
    from mastertrade.engine.signals.genome import Genome

    if isinstance(strategy, Genome):
        from mastertrade.engine.signals.evaluate import signals

        return signals(strategy, cache)
    return strategy.signals(cache)  # type: ignore[no-any-return]


def signal_rows(
    strategies: Sequence[Any], cache: IndicatorCache, seconds: list[float] | None = None
) -> tuple[BoolArray, BoolArray]:
    """``(entries, exits)`` of many strategies as rows of two (strategies, bars) arrays: the genomes'
    in one compiled call (``signals.program``), a plugin strategy's by its own ``signals``, checked.
    ``seconds``, when given, receives each strategy's time (a genome's compilation and its share of the
    compiled call)."""
    from mastertrade.engine.backtest.fast import check_signals
    from mastertrade.engine.signals.genome import Genome
    from mastertrade.engine.signals.program import Batch

    bars = len(cache)
    entries = np.empty((len(strategies), bars), dtype=np.bool_)
    exits = np.empty((len(strategies), bars), dtype=np.bool_)
    spent = [0.0] * len(strategies)
    programs, compiled = Batch(cache), []
    for index, strategy in enumerate(strategies):
        started = time.perf_counter()
        if isinstance(strategy, Genome):
            programs.add(strategy)
            compiled.append(index)
        else:
            entry, exit_ = strategy.signals(cache)
            entries[index], exits[index] = check_signals(entry, exit_, bars)
        spent[index] = time.perf_counter() - started
    if compiled:
        started = time.perf_counter()
        entries[compiled], exits[compiled] = programs.run()
        share = (time.perf_counter() - started) / len(compiled)
        for index in compiled:
            spent[index] += share
    if seconds is not None:
        seconds.extend(spent)
    return entries, exits


def run_engine(
    engine: Engine,
    frame: pd.DataFrame,
    entries: Any,
    exits: Any,
    params: OrderParams,
    *,
    cash: float = DEFAULT_CASH,
    fee: float = DEFAULT_FEE,
    plot: Path | None = None,
) -> BacktestResult:
    """Run precomputed signals through the named engine; ``plot`` needs the reference engine."""
    if engine == "fast":
        if plot is not None:
            raise UserInputError("--plot draws backtesting.py's chart: it needs the reference engine")
        from mastertrade.engine.backtest.fast import run_fast

        return run_fast(frame, entries, exits, params, cash=cash, fee=fee)
    if engine == "reference":
        from mastertrade.engine.backtest.reference import run_reference

        return run_reference(frame, entries, exits, params, cash=cash, fee=fee, plot=plot)
    raise UserInputError(f"invalid engine {engine!r}: choose fast or reference")


def backtest(
    strategy: Any,
    frame: pd.DataFrame,
    *,
    cash: float = DEFAULT_CASH,
    fee: float = DEFAULT_FEE,
    engine: Engine = "fast",
    plot: Path | None = None,
    cache: IndicatorCache | None = None,
) -> BacktestResult:
    """Backtest ``strategy`` on ``frame`` (store format). ``cache`` shares indicators between calls on
    the same frame; ``plot`` (reference engine only) writes backtesting.py's HTML chart."""
    from mastertrade.engine.signals.indicators import IndicatorCache

    if cache is None:
        cache = IndicatorCache(frame)
    entries, exits = strategy_signals(strategy, cache)
    return run_engine(engine, frame, entries, exits, order_params(strategy), cash=cash, fee=fee, plot=plot)


def timed_backtest(
    strategy: Any,
    frame: pd.DataFrame,
    *,
    cash: float = DEFAULT_CASH,
    fee: float = DEFAULT_FEE,
    engine: Engine = "fast",
    plot: Path | None = None,
) -> tuple[BacktestResult, float]:
    """``backtest`` and its wall time in seconds (indicators, signals and engine)."""
    started = time.perf_counter()
    result = backtest(strategy, frame, cash=cash, fee=fee, engine=engine, plot=plot)
    return result, time.perf_counter() - started
