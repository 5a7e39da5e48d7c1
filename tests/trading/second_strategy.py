"""The live protection rig's desk (``test_live_protection.Desk``: strategy "guarded", stop-loss 5%,
take-profit 10%) with a second active strategy beside it, of the same rules and a quarter of the equity,
for the tests of sells by hand that take several owners' coins; and what those tests read back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from mastertrade.engine.execution.strategies import TradedStrategy
from mastertrade.engine.execution.trader import Trader
from mastertrade.engine.signals.genome import parse_genome
from mastertrade.engine.signals.strategy import Strategy
from tests.fakes.exchange_trading import DeskOrder, TradingExchange
from tests.trading.live_rig import resting_sells
from tests.trading.owners import owners
from tests.trading.test_live_protection import BTC, Desk


async def desk_beside(
    database: Any, exchange: TradingExchange, name: str, *, native: bool
) -> AsyncIterator[Desk]:
    """The desk with strategy ``name`` beside "guarded"; ``native``: exits resting at the exchange (else
    watched by the daemon's protection). Closed when the test ends."""
    desk = Desk(database, exchange, native=native, stop_loss=0.05, take_profit=0.1)
    genome = {**desk.strategy.strategy.genome.to_dict(), "name": name, "size": 0.25}
    desk.others.append(TradedStrategy(name, "active", Strategy.from_genome(parse_genome(genome))))
    try:
        yield desk
    finally:
        await desk.close()


async def held_by(trader: Trader) -> dict[str | None, float]:
    """What each owner holds of BTC in the trader's book (``owners``)."""
    return await owners(trader.account.journal, trader.account.book, BTC)


def resting_exits(exchange: TradingExchange) -> list[DeskOrder]:
    """The exits resting at the exchange (stops and take-profits, not a sell by hand), in the order placed."""
    return [o for o in resting_sells(exchange) if o.type in ("STOP_LOSS_LIMIT", "LIMIT_MAKER")]
