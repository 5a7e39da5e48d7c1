"""The strategies' exit signals while a live limit sell by hand taking several owners' coins rests at the
exchange: a symbol held by the account (0.01 BTC bought by hand) and two strategies whose stop-loss and
take-profit rest as one OCO list each (``native_stops``): "guarded" and "other". The sell takes the
account's own coins, all of "guarded"'s and 0.03 of "other"'s.

"guarded"'s exit asked for all its fills held, coins the resting sell holds: refused by the risk check for
want of free coins, at that exit signal and every one after (its exit never made). Now each strategy's
exit asks for what it keeps once the sells by hand on their way have taken their shares: "guarded"'s
sells nothing and is not refused, "other"'s sells the rest of its position. Once the sell by hand is
cancelled, the coins it held are their strategies' again: their protections place their exits again for
them, and each strategy's next exit sells all it then holds.
"""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.engine import events
from mastertrade.engine.execution.trader import Trader
from tests.fakes.exchange_trading import DeskOrder, TradingExchange
from tests.trading.live_rig import open_desk
from tests.trading.owners import assert_owners
from tests.trading.second_strategy import desk_beside, held_by, resting_exits
from tests.trading.test_live_protection import BTC, Desk

OWN = 0.01
"""What the trader bought by hand beside the strategies' positions."""
TAKE = 0.03
"""What the sell by hand takes of "other"'s position, after the account's own and all of "guarded"'s."""
LIMIT = 41_000.0
"""Where the sell by hand rests: above the market, which only falls in these tests."""


@pytest.fixture
def exchange() -> Any:
    yield from open_desk()


@pytest.fixture
async def desk(database: Any, exchange: TradingExchange) -> Any:
    async for desk in desk_beside(database, exchange, "other", native=True):
        yield desk


def refused(desk: Desk) -> list[str]:
    """The orders refused so far (by the risk check, or before it)."""
    return [event.reason for event in desk.events if isinstance(event, events.OrderRejected)]


def exit_sells(desk: Desk) -> list[DeskOrder]:
    """The market sells placed at the exchange: the strategies' exits (the sell by hand is a limit)."""
    return [o for o in desk.exchange.placed if o.side == "SELL" and o.type == "MARKET"]


async def _resting(desk: Desk) -> tuple[Trader, float, float, dict[str, Any]]:
    """Both strategies' entries on one up bar (each with its OCO list resting), 0.01 bought by hand, then
    the limit sell by hand resting above the market; what each strategy holds, and the sell."""
    trader = await desk.run()
    await desk.close_bar(trader, 39_600.0, 40_040.0, 39_400.0, 40_000.0)
    account = trader.account
    guarded = await account.strategy_holding("guarded", BTC)
    other = await account.strategy_holding("other", BTC)
    assert (await account.place(BTC, "buy", OWN, live=True))["order"]["state"] == "filled"
    amount = float(f"{OWN + guarded + TAKE:.8g}")
    sell = (await account.place(BTC, "sell", amount, type_="limit", price=LIMIT, live=True))["order"]
    assert sell["state"] == "open"
    assert [share["strategy_id"] for share in sell["shares"]] == [None, "guarded", "other"]
    assert [o.quantity for o in resting_exits(desk.exchange)] == [pytest.approx(other - TAKE)] * 2
    assert_owners(await held_by(trader), own=OWN, guarded=guarded, other=other)
    return trader, guarded, other, sell


async def test_each_exit_signal_sells_what_its_strategy_keeps_beside_the_resting_sell(desk: Desk) -> None:
    trader, guarded, other, sell = await _resting(desk)

    await desk.close_bar(trader, 40_000.0, 40_100.0, 39_700.0, 39_800.0)  # a down bar: both exits

    assert refused(desk) == []
    [sold] = exit_sells(desk)
    assert sold.quantity == pytest.approx(other - TAKE) and sold.status == "FILLED"
    assert (
        resting_exits(desk.exchange) == []
    )  # "other"'s OCO list taken back for its exit; "guarded" had none
    assert_owners(await held_by(trader), own=OWN, guarded=guarded, other=TAKE)
    assert (await trader.account.journal.get(sell["id"])).state == "open"

    await desk.close_bar(trader, 39_800.0, 39_900.0, 39_500.0, 39_600.0)  # down again: nothing to sell
    assert refused(desk) == [] and len(exit_sells(desk)) == 1

    restarted = await desk.run()
    await restarted.housekeeping()
    assert_owners(await held_by(restarted), own=OWN, guarded=guarded, other=TAKE)
    assert resting_exits(desk.exchange) == []  # all that is left of theirs is the resting sell's


async def test_after_the_sell_by_hand_is_cancelled_the_next_exits_sell_what_is_held(desk: Desk) -> None:
    trader, guarded, other, sell = await _resting(desk)
    await desk.close_bar(trader, 40_000.0, 40_100.0, 39_700.0, 39_800.0)  # a down bar: both exits
    account = trader.account

    cancelled = await account.cancel(sell["id"])

    assert cancelled["state"] == "cancelled"
    assert_owners(await held_by(trader), own=OWN, guarded=guarded, other=TAKE)
    # the coins it held are theirs again: each protection places its exits again for all it holds
    assert sorted(o.quantity for o in resting_exits(desk.exchange)) == pytest.approx(
        [TAKE, TAKE, guarded, guarded]
    )

    await desk.close_bar(trader, 39_800.0, 39_900.0, 39_500.0, 39_600.0)  # down again: both exits

    assert refused(desk) == []
    assert sorted(o.quantity for o in exit_sells(desk)) == pytest.approx([TAKE, other - TAKE, guarded])
    assert resting_exits(desk.exchange) == []
    assert_owners(await held_by(trader), own=OWN)
    assert desk.exchange.balance("BTC") == pytest.approx(OWN)
    states = {row.strategy_id: row.state for row in await desk.protections()}
    assert states == {"guarded": "closed", "other": "closed"}

    restarted = await desk.run()
    await restarted.housekeeping()
    assert_owners(await held_by(restarted), own=OWN)
