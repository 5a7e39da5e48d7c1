"""Backtest a strategy on a loaded series: the one door for "compute the signals, run an engine" that
``mt backtest``, the API's backtest curve and both parity reports call.

The signals are computed over the whole series (so indicators are as warm as the history allows) and
the engine runs from bar ``begin`` on: a parity report starts its backtest on the bar a paper book
opened, with signals that saw everything before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mastertrade.engine.backtest.params import order_params
from mastertrade.engine.backtest.runner import Engine, run_engine, strategy_signals

if TYPE_CHECKING:
    import pandas as pd

    from mastertrade.engine.backtest.result import BacktestResult
    from mastertrade.engine.backtest.runner import BoolArray
    from mastertrade.engine.research.series import Series
    from mastertrade.engine.signals.indicators import IndicatorCache


@dataclass(frozen=True)
class StrategyBacktest:
    """A backtest of one strategy and the signals it ran on (over the whole series)."""

    result: BacktestResult
    entries: BoolArray
    exits: BoolArray
    begin: int
    window: pd.DataFrame
    """The bars the engine ran on (``series.frame`` from ``begin``)."""


def backtest_series(
    strategy: Any,
    series: Series,
    *,
    cash: float,
    fee: float,
    engine: Engine = "fast",
    begin: int = 0,
    plot: Path | None = None,
    cache: IndicatorCache | None = None,
) -> StrategyBacktest:
    """Backtest ``strategy`` (a genome, a ``Strategy`` or a plugin) on ``series`` from bar ``begin``;
    ``cache`` shares indicators between calls on the same series; ``plot`` needs the reference engine."""
    entries, exits = strategy_signals(strategy, cache if cache is not None else series.cache())
    window = series.frame.iloc[begin:] if begin else series.frame
    result = run_engine(
        engine, window, entries[begin:], exits[begin:], order_params(strategy), cash=cash, fee=fee, plot=plot
    )
    return StrategyBacktest(result, entries, exits, begin, window)
