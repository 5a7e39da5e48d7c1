"""Which strategies trade, and their signals on the candles stored so far.

The trading service asks a ``StrategySource`` for the strategies in the ``paper`` and ``active`` stages.
The strategy store (the promotion pipeline) provides one to the daemon with
``ctx.provide(source, as_type=StrategySource)``; without one nothing trades on signals (manual orders
still do), and tests hand in ``StaticStrategies``.

``latest_signals`` evaluates a strategy with the same code as the backtester (``Strategy.signals`` on an
``IndicatorCache``) over the stored candles up to and including the bar that just closed, and returns
its two signals at that bar. The window is long enough for the indicators to settle (``WINDOW_FACTOR``
times the strategy's warm-up, at least ``MIN_WINDOW`` bars).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from mastertrade.engine.sizing.kelly import TradeStats

if TYPE_CHECKING:
    import pandas as pd

    from mastertrade.engine.backtest.result import BacktestResult
    from mastertrade.engine.signals.strategy import Strategy

Stage = Literal["paper", "active"]
MIN_WINDOW = 1000
WINDOW_FACTOR = 10


@dataclass(frozen=True)
class TradedStrategy:
    """A strategy that trades: paper-stage ones in their own paper book, active ones in the account.
    ``backtest`` is its backtest's trade record, the prior of its Kelly sizing (``backtest_stats``)."""

    id: str
    stage: Stage
    strategy: Strategy
    backtest: TradeStats = field(default_factory=TradeStats)

    @property
    def symbol(self) -> str | None:
        return self.strategy.symbol

    @property
    def timeframe(self) -> str | None:
        return self.strategy.timeframe


class StrategySource:
    """Where the strategies that trade come from. The base trades none; the strategy store subclasses it
    and provides an instance (``ctx.provide(store_source, as_type=StrategySource)``)."""

    async def traded(self) -> Sequence[TradedStrategy]:
        return []


class StaticStrategies(StrategySource):
    """A fixed list of strategies (tests, and a daemon without a strategy store)."""

    def __init__(self, strategies: Sequence[TradedStrategy] = ()) -> None:
        self.strategies = list(strategies)

    async def traded(self) -> Sequence[TradedStrategy]:
        return list(self.strategies)


def backtest_stats(result: BacktestResult) -> TradeStats:
    """A backtest's closed trades as a Kelly record (each trade's return: its P&L over its entry value)."""
    log = result.trades
    returns = [
        float(log.pnl[k]) / float(log.entry_price[k] * log.size[k])
        for k in range(len(log))
        if log.exit_bar[k] >= 0 and log.entry_price[k] * log.size[k] > 0
    ]
    return TradeStats.from_returns(returns)


def window_bars(strategy: Strategy) -> int:
    return max(MIN_WINDOW, WINDOW_FACTOR * strategy.warmup)


def latest_signals(strategy: Strategy, frame: pd.DataFrame, features: Any = None) -> tuple[bool, bool]:
    """``(entry, exit)`` of ``strategy`` at the last bar of ``frame`` (the bar that just closed);
    ``features`` provides its alternative-data terms (``collectors.provider.features_for``)."""
    from mastertrade.engine.signals.indicators import IndicatorCache

    if len(frame) == 0:
        return False, False
    entries, exits = strategy.signals(IndicatorCache(frame, features=features))
    return bool(entries[-1]), bool(exits[-1])
