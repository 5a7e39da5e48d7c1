"""Which strategies trade, and their signals on the candles stored so far.

The trading service asks a ``StrategySource`` for the strategies in the ``paper`` and ``active`` stages.
The strategy store (the promotion pipeline) provides one to the daemon with
``ctx.provide(source, as_type=StrategySource)``; without one nothing trades on signals (manual orders
still do), and tests hand in ``StaticStrategies``.

``window_bars`` is how many bars of warm-up a strategy's signals are computed over before the bar its
book opened on (``bar_clock.signal_anchor``): long enough for the indicators to settle (``WINDOW_FACTOR``
times the strategy's warm-up, at least ``MIN_WINDOW`` bars).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from mastertrade.engine.sizing.kelly import TradeStats

if TYPE_CHECKING:
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
