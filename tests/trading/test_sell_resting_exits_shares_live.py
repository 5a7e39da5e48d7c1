"""A live sell by hand (``mt trade sell --live``, ``POST /v1/orders``) of a symbol held by the account (0.01
BTC bought by hand, without exits) and two strategies whose stop-loss and take-profit rest at the
exchange as one OCO list each (``native_stops``): "guarded" (0.125) and "other" (0.12499).

A sell of the account's own coins and more took both strategies' exits back and sold, but was booked as the
account's own: both strategies kept counting what it sold of theirs (each capped at the 0.09499 left, so
together twice what was held), "guarded"'s protection, whose coins were all sold, placed its exits again
for 0.09499, and "other"'s could not be placed (the coins were locked by "guarded"'s). Now the sell carries
each owner's share, in the order its answer names them (the account's own, then the strategies by id):
each position drops by its share, paper and live, also after a restart and on a partial fill, and each
strategy's exits are placed again for what it still holds (beside a limit sell still resting, for what
that sell leaves it).
"""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.engine.execution.trader import Trader
from tests.fakes.exchange_trading import DeskOrder, TradingExchange
from tests.trading.live_rig import open_desk
from tests.trading.owners import assert_owners
from tests.trading.second_strategy import desk_beside, held_by, resting_exits
from tests.trading.test_live_protection import BTC, Desk

OWN = 0.01
"""What the trader bought by hand beside the strategies' positions."""
TAKE = 0.03
"""What the sells take of "other"'s position, after the account's own and all of "guarded"'s."""


@pytest.fixture
def exchange() -> Any:
    yield from open_desk()


@pytest.fixture
async def desk(database: Any, exchange: TradingExchange) -> Any:
    async for desk in desk_beside(database, exchange, "other", native=True):
        yield desk


async def _all(desk: Desk) -> tuple[Trader, float, float, list[DeskOrder]]:
    """Both strategies' entries on one up bar (each with its OCO list resting), then 0.01 bought by
    hand; what each strategy holds, and their exits."""
    trader = await desk.run()
    await desk.close_bar(trader, 39_600.0, 40_040.0, 39_400.0, 40_000.0)
    account = trader.account
    guarded = await account.strategy_holding("guarded", BTC)
    other = await account.strategy_holding("other", BTC)
    bought = await account.place(BTC, "buy", OWN, live=True)
    assert bought["order"]["state"] == "filled"
    resting = resting_exits(desk.exchange)
    assert sorted(o.quantity for o in resting) == pytest.approx([other, other, guarded, guarded])
    assert_owners(await held_by(trader), own=OWN, guarded=guarded, other=other)
    return trader, guarded, other, resting


async def test_a_sell_of_the_accounts_own_and_both_positions_drops_each_by_its_share(desk: Desk) -> None:
    trader, guarded, other, old = await _all(desk)
    account = trader.account
    amount = float(f"{OWN + guarded + TAKE:.8g}")
    left = other - TAKE

    answer = await account.place(BTC, "sell", amount, live=True)

    order = answer["order"]
    assert order["state"] == "filled" and order["strategy_id"] is None
    assert order["shares"] == [
        {"strategy_id": None, "amount": pytest.approx(OWN)},
        {"strategy_id": "guarded", "amount": pytest.approx(guarded)},
        {"strategy_id": "other", "amount": pytest.approx(TAKE)},
    ]
    assert answer["exits"].startswith(
        f"the sell takes {guarded + TAKE:.8g} of the {guarded + other:.8g} {BTC} held by strategies guarded "
        f"({guarded:.8g}), other ({other:.8g}) (after the account's own {OWN:.8g}), whose exits it takes "
        f"back, in that order: all of strategy guarded's {guarded:.8g}, {TAKE:.8g} of strategy other's "
        f"{other:.8g}; strategy guarded, other's exits order "
    )
    assert f"strategy guarded's protection of {BTC} ended with the position" in answer["exits"]
    assert_owners(await held_by(trader), guarded=0.0, other=left)
    assert await account.strategy_holding("guarded", BTC) == 0.0
    assert await account.strategy_holding("other", BTC) == pytest.approx(left)
    # one OCO list, "other"'s, for what it still holds; "guarded"'s protection ended
    stop, take = resting_exits(desk.exchange)
    assert stop.quantity == take.quantity == pytest.approx(left)
    assert stop.client_order_id not in {o.client_order_id for o in old}
    states = {row.strategy_id: row.state for row in await desk.protections()}
    assert states == {"guarded": "closed", "other": "active"}

    restarted = await desk.run()  # a new daemon on the same database folds the same positions
    await restarted.housekeeping()
    await desk.tick(restarted, 40_100.0)
    assert_owners(await held_by(restarted), guarded=0.0, other=left)
    assert [o.quantity for o in resting_exits(desk.exchange)] == [pytest.approx(left)] * 2


async def test_a_limit_sell_filling_in_parts_goes_to_each_owner_in_order_and_the_exits_cover_the_rest(
    desk: Desk,
) -> None:
    trader, guarded, other, _ = await _all(desk)
    account = trader.account
    amount = float(f"{OWN + guarded + TAKE:.8g}")
    first = 0.05  # the account's own 0.01, then 0.04 of "guarded"'s

    answer = await account.place(BTC, "sell", amount, type_="limit", price=41_000.0, live=True)

    order = answer["order"]
    assert order["state"] == "open"  # above the market: it rests, holding its coins
    assert (
        f"; strategy guarded's protection watches the position until the sell, still working, has sold the "
        f"{guarded:.8g} {BTC} it takes of it; strategy other's protection placed them again for the "
        f"{other - TAKE:.8g} {BTC} left: order "
    ) in answer["exits"]
    # "other"'s exits are placed again for what the sell leaves it, beside the sell; "guarded"'s none
    stop, take = resting_exits(desk.exchange)
    assert stop.quantity == take.quantity == pytest.approx(other - TAKE)
    assert_owners(await held_by(trader), own=OWN, guarded=guarded, other=other)  # nothing sold yet

    desk.exchange.fill_part(order["client_order_id"], first)
    await account.poll()
    assert_owners(await held_by(trader), guarded=guarded - (first - OWN), other=other)

    restarted = await desk.run()
    assert_owners(await held_by(restarted), guarded=guarded - (first - OWN), other=other)
    await desk.tick(restarted, 40_100.0)
    stop, take = resting_exits(desk.exchange)
    assert stop.quantity == take.quantity == pytest.approx(other - TAKE)

    desk.exchange.fill_part(order["client_order_id"], amount - first)
    await restarted.housekeeping()  # the fill booked, the protections settled
    assert (await restarted.account.journal.get(order["id"])).state == "filled"
    assert_owners(await held_by(restarted), guarded=0.0, other=other - TAKE)
    states = {row.strategy_id: row.state for row in await desk.protections()}
    assert states == {"guarded": "closed", "other": "active"}
    stop, take = resting_exits(desk.exchange)
    assert stop.quantity == take.quantity == pytest.approx(other - TAKE)


async def test_a_second_sell_while_the_first_rests_takes_only_what_the_first_leaves(desk: Desk) -> None:
    trader, guarded, other, _ = await _all(desk)
    account = trader.account
    amount = float(f"{OWN + guarded + TAKE:.8g}")
    more = 0.02
    first = await account.place(BTC, "sell", amount, type_="limit", price=41_000.0, live=True)
    assert first["order"]["state"] == "open"
    journal = account.journal
    before = [await journal.get(client_order_id=o.client_order_id) for o in resting_exits(desk.exchange)]

    second = await account.place(BTC, "sell", more, live=True)

    # nothing is left of the account's own or of "guarded"'s once the first has sold: "other"'s alone
    assert second["order"]["state"] == "filled" and second["order"]["strategy_id"] == "other"
    after = [await journal.get(client_order_id=o.client_order_id) for o in resting_exits(desk.exchange)]
    assert [row.amount for row in after] == [pytest.approx(other - TAKE - more)] * 2
    assert second["exits"] == (
        f"strategy other's exits order {before[0].id} (stop-loss), order {before[1].id} (take-profit) were "
        f"taken back for the sell; its protection placed them again for the {other - TAKE - more:.8g} {BTC} "
        f"left: order {after[0].id} (stop-loss), order {after[1].id} (take-profit)"
    )
    assert_owners(await held_by(trader), own=OWN, guarded=guarded, other=other - more)

    desk.exchange.fill_part(first["order"]["client_order_id"], OWN + guarded)
    desk.exchange.fill_part(first["order"]["client_order_id"], TAKE)
    await trader.housekeeping()
    assert_owners(await held_by(trader), other=other - TAKE - more)
    restarted = await desk.run()
    assert_owners(await held_by(restarted), other=other - TAKE - more)
    assert [o.quantity for o in resting_exits(desk.exchange)] == [pytest.approx(other - TAKE - more)] * 2
