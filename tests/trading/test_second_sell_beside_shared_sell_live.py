"""A second live sell by hand while a first one, taking several owners' coins, rests at the exchange (a
limit sell above the market): a symbol held by two strategies whose exits only the daemon keeps
(``[execution] native_stops = false``): "guarded" and "watched".

The first sell carried each owner's share, but the second was booked as the account's own, though there
were no coins of the account's own: once both filled, "watched" still counted what the second sold of its
(the account's own went below nothing). Now the second sell shares out what the first leaves (each
owner's holding less its part of the sells on their way), and its answer names what it takes, whatever
order the fills come in, across a restart and a partial fill.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.exchange_trading import TradingExchange
from tests.trading.live_rig import open_desk
from tests.trading.owners import assert_owners
from tests.trading.second_strategy import desk_beside, held_by
from tests.trading.test_live_protection import BTC, Desk

TAKE = 0.03
"""What the first sell takes of "watched"'s position, after all of "guarded"'s (on the lot step)."""
MORE = 0.02
"""What the second sell takes of what the first leaves "watched"."""


@pytest.fixture
def exchange() -> Any:
    yield from open_desk()


@pytest.fixture
async def desk(database: Any, exchange: TradingExchange) -> Any:
    async for desk in desk_beside(database, exchange, "watched", native=False):
        yield desk


async def test_a_second_sell_while_the_first_rests_takes_only_what_the_first_leaves(desk: Desk) -> None:
    trader = await desk.run()
    await desk.close_bar(trader, 39_600.0, 40_040.0, 39_400.0, 40_000.0)
    account = trader.account
    guarded = await account.strategy_holding("guarded", BTC)
    watched = await account.strategy_holding("watched", BTC)
    amount = float(f"{guarded + TAKE:.8g}")
    left = watched - TAKE

    first = await account.place(BTC, "sell", amount, type_="limit", price=41_000.0, live=True)
    assert first["order"]["state"] == "open"  # above the market: it rests
    assert [share["strategy_id"] for share in first["order"]["shares"]] == ["guarded", "watched"]

    second = await account.place(BTC, "sell", MORE, live=True)

    assert second["order"]["state"] == "filled" and second["order"]["strategy_id"] == "watched"
    assert second["exits"] == (
        f"the sell takes {MORE:.8g} of strategy watched's {left:.8g} {BTC}; its protection, kept by the "
        f"daemon (none rests at the exchange), watches the {left - MORE:.8g} left"
    )
    assert_owners(await held_by(trader), guarded=guarded, watched=watched - MORE)

    desk.exchange.fill_part(first["order"]["client_order_id"], 0.1)  # "guarded"'s, the first owner
    await account.poll()
    assert_owners(await held_by(trader), guarded=guarded - 0.1, watched=watched - MORE)

    restarted = await desk.run()
    assert_owners(await held_by(restarted), guarded=guarded - 0.1, watched=watched - MORE)
    desk.exchange.fill_part(first["order"]["client_order_id"], amount - 0.1)
    await restarted.housekeeping()
    assert (await restarted.account.journal.get(first["order"]["id"])).state == "filled"
    assert_owners(await held_by(restarted), watched=left - MORE)
    assert await restarted.account.strategy_holding("watched", BTC) == pytest.approx(left - MORE)
    states = {row.strategy_id: row.state for row in await desk.protections()}
    assert states == {"guarded": "closed", "watched": "active"}
