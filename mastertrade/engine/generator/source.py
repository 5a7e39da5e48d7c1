"""The strategies that trade, from the store: the trading core's ``StrategySource`` over stored
strategies in the ``paper`` and ``active`` states.

The daemon provides it (``ctx.provide(StoredStrategies(ctx.db), as_type=StrategySource)``); the trading
service asks it for the traded strategies on every closed candle, so a strategy the nightly run moves to
paper, or one the user pauses, trades (or stops) from the next bar on without a restart. Each strategy's
Kelly prior is its hold-out backtest trade record (``out_of_sample["trade_stats"]``), never the
search window's, which the search has seen (a row stored before the hold-out existed has none, so the
sizer uses its default fraction). A trained policy trades only the bars closed after its training ended
(``ml.serving_policy``): on a replay it may have learnt from the bars it would trade.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mastertrade.engine.execution.strategies import Stage, StrategySource, TradedStrategy
from mastertrade.engine.generator.states import TRADING
from mastertrade.engine.generator.store import StoredStrategy, StrategyStore
from mastertrade.engine.sizing.kelly import TradeStats

if TYPE_CHECKING:
    from mastertrade.db.database import Database
    from mastertrade.engine.signals.strategy import Strategy


def trade_stats(data: Any) -> TradeStats:
    """A ``TradeStats`` from its stored form (``{"wins", "losses", "win_sum", "loss_sum"}``); an
    absent or malformed record is an empty one (the sizer then uses its default fraction)."""
    if not isinstance(data, dict):
        return TradeStats()
    try:
        return TradeStats(
            float(data["wins"]), float(data["losses"]), float(data["win_sum"]), float(data["loss_sum"])
        )
    except (KeyError, TypeError, ValueError):
        return TradeStats()


class StoredStrategies(StrategySource):
    """``traded()``: the stored strategies in ``paper`` and ``active``, as the trading core runs them."""

    def __init__(self, db: Database) -> None:
        self.store = StrategyStore(db)
        self._strategies: dict[str, Strategy] = {}  # parsed genomes by id: a stored genome never changes

    async def traded(self) -> Sequence[TradedStrategy]:
        return [self._traded(row) for row in await self.store.list(states=TRADING)]

    def _traded(self, row: StoredStrategy) -> TradedStrategy:
        strategy = self._strategies.get(row.id)
        if strategy is None:
            from mastertrade.engine.ml.serving_policy import serving_strategy

            # a genome, an installed plugin or a policy (serving only the bars its training preceded)
            strategy = serving_strategy(row.strategy(), row.id)
            self._strategies[row.id] = strategy
        stage: Stage = "paper" if row.state.value == "paper" else "active"
        return TradedStrategy(row.id, stage, strategy, trade_stats(row.holdout.get("trade_stats")))
