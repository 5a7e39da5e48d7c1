"""The protective stops of strategies whose exits only the daemon keeps (``[execution] native_stops =
false``: "guarded" and "watched") triggering while a live limit sell by hand taking both strategies'
coins rests at the exchange: all of "guarded"'s and 0.03 of "watched"'s.

"guarded"'s protection sold all the position it counted, capped at the coins free: "watched"'s, which the
sell by hand left it, sold and booked as "guarded"'s; "watched"'s protection then found nothing free and
waited. So "guarded"'s coins stayed in the resting sell, "watched"'s stop never sold its position, and
the strategies' positions no longer added up to what each held. Now each protection sells what its
strategy keeps once the sells by hand on their way have taken their shares: "guarded"'s waits for the
sell by hand (its coins are that sell's), "watched"'s sells its rest. When the sell by hand ends without
them (cancelled at the exchange), the coins are their strategies' again, and the stops, still reached,
sell them.
"""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.engine import events
from mastertrade.engine.execution.trader import Trader
from tests.fakes.exchange_trading import TradingExchange
from tests.trading.live_rig import open_desk
from tests.trading.owners import assert_owners
from tests.trading.second_strategy import desk_beside, held_by
from tests.trading.test_live_protection import BTC, Desk

TAKE = 0.03
"""What the sell by hand takes of "watched"'s position, after all of "guarded"'s (on the lot step)."""


@pytest.fixture
def exchange() -> Any:
    yield from open_desk()


@pytest.fixture
async def desk(database: Any, exchange: TradingExchange) -> Any:
    async for desk in desk_beside(database, exchange, "watched", native=False):
        yield desk


async def protective_sells(trader: Trader) -> dict[str | None, float]:
    """What the protections' sells sold, by strategy."""
    sold: dict[str | None, float] = {}
    for row in await trader.account.journal.orders(book=trader.account.book, symbol=BTC):
        if row.side == "sell" and row.role == "stop_loss":
            sold[row.strategy_id] = sold.get(row.strategy_id, 0.0) + row.filled
    return sold


async def test_each_stop_sells_what_its_strategy_keeps_and_the_rest_once_the_sell_by_hand_ends(
    desk: Desk,
) -> None:
    trader = await desk.run()
    await desk.close_bar(trader, 39_600.0, 40_040.0, 39_400.0, 40_000.0)  # both entries at 40,000
    account = trader.account
    guarded = await account.strategy_holding("guarded", BTC)
    watched = await account.strategy_holding("watched", BTC)
    amount = float(f"{guarded + TAKE:.8g}")
    sell = (await account.place(BTC, "sell", amount, type_="limit", price=41_000.0, live=True))["order"]
    assert sell["state"] == "open"  # above the market: it rests, holding its coins
    assert [share["strategy_id"] for share in sell["shares"]] == ["guarded", "watched"]

    await desk.tick(trader, 37_900.0)  # both stops (38,000) reached

    assert [e for e in desk.events if isinstance(e, events.OrderRejected)] == []
    assert await protective_sells(trader) == {"watched": pytest.approx(watched - TAKE)}
    assert_owners(await held_by(trader), guarded=guarded, watched=TAKE)
    states = {row.strategy_id: row.state for row in await desk.protections()}
    assert states == {"guarded": "active", "watched": "active"}  # both still guard what the sell holds
    await desk.tick(trader, 37_850.0)  # still reached: nothing more of theirs to sell
    assert await protective_sells(trader) == {"watched": pytest.approx(watched - TAKE)}

    restarted = await desk.run()
    assert_owners(await held_by(restarted), guarded=guarded, watched=TAKE)

    desk.exchange.cancel_by_hand(sell["client_order_id"])  # it ends at the exchange, unfilled
    await restarted.housekeeping()
    assert (await restarted.account.journal.get(sell["id"])).state == "cancelled"
    assert_owners(await held_by(restarted), guarded=guarded, watched=TAKE)

    await desk.tick(restarted, 37_800.0)  # the stops, still reached, sell what each holds

    assert await protective_sells(restarted) == {
        "guarded": pytest.approx(guarded),
        "watched": pytest.approx(watched),
    }
    assert_owners(await held_by(restarted), guarded=0.0, watched=0.0)
    assert desk.exchange.balance("BTC") == pytest.approx(0.0, abs=1e-9)
    states = {row.strategy_id: row.state for row in await desk.protections()}
    assert states == {"guarded": "closed", "watched": "closed"}
    assert_owners(await held_by(await desk.run()), guarded=0.0, watched=0.0)
