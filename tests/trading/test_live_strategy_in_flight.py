"""A live strategy whose own order is still on its way when its next bar closes.

The backtest fills an order at the next bar's open, so a strategy is never both "entering" and "flat" at
a close. Live, an entry whose answer was lost (the exchange timed out, then answered -2013 "Order does
not exist." to lookups for a while, or was down for minutes) is ``unknown`` for as long: the strategy
holds nothing yet, and its entry signal at the next close sent a second buy beside the first. The
trader expects one position per signal: the second entry waits (logged and audited), and the first is
booked once the exchange shows it. The same holds for an exit sell still on its way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mastertrade.engine.orders import OrderState
from tests.fakes.exchange import serve
from tests.fakes.quirky_exchange import Quirks, QuirkyExchange
from tests.trading.live_rig import DESK
from tests.trading.test_live_protection import BTC, Desk


@pytest.fixture
def exchange() -> Iterator[QuirkyExchange]:
    values: dict[str, Any] = dict(DESK)
    symbols = values.pop("symbols")
    yield from serve(QuirkyExchange(symbols, quirks=Quirks(unknown_for_s=600.0), **values))


@pytest.fixture
async def desk(database: Any, exchange: QuirkyExchange) -> Any:
    desk = Desk(database, exchange)
    try:
        yield desk
    finally:
        await desk.close()


def _buys(exchange: QuirkyExchange) -> list[Any]:
    return [order for order in exchange.placed if order.side == "BUY"]


async def test_an_entry_still_unknown_at_the_next_close_is_not_bought_again(
    desk: Desk, exchange: QuirkyExchange
) -> None:
    trader = await desk.run()
    exchange.after_accept("503")  # booked and filled, answered 5xx; lookups miss it for a while
    await desk.close_bar(trader, 39_600.0, 40_040.0, 39_400.0, 40_000.0)  # up bar: the entry
    [first] = _buys(exchange)
    [row] = await trader.account.journal.orders(book="live")
    assert row.state == OrderState.UNKNOWN, row.reason
    await desk.close_bar(trader, 40_000.0, 40_500.0, 39_900.0, 40_400.0)  # up again: no second buy
    assert _buys(exchange) == [first]
    exchange.quirks.unknown_for_s = 0.0  # the exchange shows it now
    await trader.housekeeping()
    assert (await trader.account.journal.get(row.id)).state == OrderState.FILLED
    assert await trader.account.strategy_holding("guarded", BTC) == pytest.approx(first.executed)
    await trader.close()


async def test_an_exit_still_unknown_at_the_next_close_is_not_sold_again(
    desk: Desk, exchange: QuirkyExchange
) -> None:
    trader = await desk.run()
    exchange.quirks.unknown_for_s = 0.0
    [bought] = [await desk.enter(trader)]
    await trader.account.place(BTC, "buy", 0.05, live=True)  # the account's own coins beside the strategy's
    exchange.quirks.unknown_for_s = 600.0
    exchange.after_accept("503")
    await desk.close_bar(trader, 40_000.0, 40_100.0, 39_500.0, 39_600.0)  # down bar: the exit
    [sell] = [order for order in exchange.placed if order.side == "SELL"]
    assert sell.quantity == pytest.approx(bought.executed)
    await desk.close_bar(trader, 39_600.0, 39_700.0, 39_000.0, 39_100.0)  # down again: no second sell
    assert [order for order in exchange.placed if order.side == "SELL"] == [sell]
    [audit] = await trader.account.risk.store.audit_log(limit=1)
    assert audit.reason.startswith("strategy guarded's sell order") and "still unknown" in audit.reason
    exchange.quirks.unknown_for_s = 0.0
    await trader.housekeeping()
    assert await trader.account.strategy_holding("guarded", BTC) == 0.0
    assert exchange.balance("BTC") == pytest.approx(0.05)  # the account's own coins, never sold
    await trader.close()
