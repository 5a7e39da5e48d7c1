"""A paper sell by hand that cut down other owners' exits and was then cancelled: a paper symbol held by the
account (20 BTC bought by hand with --stop-loss/--take-profit) and two active strategies, "a" (which exits
on a down bar) and "k" (which never signals an exit), each with its stop-loss and take-profit resting in
the paper book.

A limit sell by hand above the market of more than the account's own coins replaced the exits: the
hand-bracketed buy's cancelled, a strategy's cut down to what the sell left it. Once that sell was
cancelled, they stayed so: the account's own coins had no paper stop at all, and the part of the
strategy's position the sell had promised none until its next exit signal (live, the exits are placed
again at once). Now the exits come back when such a sell ends without selling: each set at its levels,
for what it covered, never more than its owner then holds beside its other sells; also when the daemon
restarted while the sell rested.
"""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.engine.execution.strategies import StaticStrategies
from mastertrade.engine.execution.strategy_orders import exit_request
from mastertrade.engine.orders import OrderState
from tests.trading.conftest import TradingEngine
from tests.trading.owners import assert_covered, assert_owners
from tests.trading.test_exit_signal_keeps_others_exits_paper import (
    NEVER,
    OWN,
    _three_positions,
    covered,
    held_by,
    traded,
)
from tests.trading.test_service import BTC

LIMIT = 150.0
"""Where the sell by hand rests: far above the market, so it never fills in these tests."""
FREE = 5.0
"""What the trader buys by hand without exits (the account's own coins no exit reserves)."""


@pytest.fixture
def trading_strategies() -> StaticStrategies:
    return StaticStrategies([traded("a"), traded("k", exit=NEVER)])


async def levels(trading: TradingEngine) -> dict[tuple[str | None, str], tuple[Any, Any]]:
    """The levels of the open exits, by owner and type (a stop's trigger, a take-profit's limit)."""
    return {
        (o["strategy_id"], o["type"]): (o["stop_price"], o["price"])
        for o in await trading.trader.account.orders(open_only=True, limit=200)
        if o["parent_id"] is not None
    }


async def _sell(trading: TradingEngine, amount: float) -> dict[str, Any]:
    async with trading.client() as client:
        sold = await client.place_order(
            OrderCreate(symbol=BTC, side="sell", amount=amount, type="limit", price=LIMIT)
        )
    assert sold.order.state == "open" and sold.exits is not None
    return sold.order.model_dump()


async def _cancel(trading: TradingEngine, sell: dict[str, Any]) -> None:
    async with trading.client() as client:
        cancelled = await client.cancel_order(sell["id"])
    assert cancelled.state == "cancelled"


async def test_the_exits_cut_for_a_cancelled_sell_by_hand_come_back_as_they_were(
    trading: TradingEngine,
) -> None:
    a, k = await _three_positions(trading)
    before = await levels(trading)
    sell = await _sell(trading, OWN + k / 2)  # the account's own (its exits cancelled), half of "k"'s
    assert [(share["strategy_id"], share["amount"]) for share in sell["shares"]] == [
        (None, pytest.approx(OWN)),
        ("k", pytest.approx(k / 2)),
    ]
    assert_covered(await covered(trading), a=a, k=k / 2)  # what the sell leaves each owner

    await _cancel(trading, sell)

    assert_owners(await held_by(trading), own=OWN, a=a, k=k)
    assert_covered(await covered(trading), own=OWN, a=a, k=k)
    assert await levels(trading) == before
    trading = await trading.restart()
    assert_owners(await held_by(trading), own=OWN, a=a, k=k)
    assert_covered(await covered(trading), own=OWN, a=a, k=k)

    await trading.bar(BTC, 4, 101.8, 101.8, 90.0, 91.0)  # a crash: every stop sells what it protects
    assert (await trading.trader.account.holdings()).get(BTC, 0.0) == 0.0
    assert_owners(await held_by(trading))
    assert_covered(await covered(trading))


async def test_a_restart_while_the_sell_rests_does_not_lose_the_exits_it_cut(trading: TradingEngine) -> None:
    a, k = await _three_positions(trading)
    before = await levels(trading)
    sell = await _sell(trading, OWN + k / 2)

    trading = await trading.restart()
    assert_covered(await covered(trading), a=a, k=k / 2)
    await trading.bar(BTC, 4, 101.8, 102.2, 101.5, 102.0)  # an up bar: the sell still rests
    await _cancel(trading, sell)

    assert_owners(await held_by(trading), own=OWN, a=a, k=k)
    assert_covered(await covered(trading), own=OWN, a=a, k=k)
    assert await levels(trading) == before
    trading = await trading.restart()
    assert_covered(await covered(trading), own=OWN, a=a, k=k)


async def test_the_exits_come_back_for_what_each_owner_holds_once_the_sell_ends(
    trading: TradingEngine,
) -> None:
    """The exit signal of "a" sold what the resting sell left it; once that sell is cancelled, its exits
    come back for the half it still holds (its next exit signal sells it), the others' for all theirs."""
    a, k = await _three_positions(trading)
    sell = await _sell(trading, OWN + k + a / 2)  # the account's own and "k"'s sets, half of "a"'s
    assert_covered(await covered(trading), a=a / 2)
    await trading.bar(BTC, 4, 101.8, 102, 100.5, 100.8)  # a down bar: "a"'s exit signal
    await trading.bar(BTC, 5, 100.8, 101, 100.2, 100.6)  # it sells the half the sell by hand leaves it
    assert_owners(await held_by(trading), own=OWN, a=a / 2, k=k)
    assert_covered(await covered(trading))  # all that is held is the resting sell's

    await _cancel(trading, sell)

    assert_owners(await held_by(trading), own=OWN, a=a / 2, k=k)
    assert_covered(await covered(trading), own=OWN, a=a / 2, k=k)
    trading = await trading.restart()
    assert_covered(await covered(trading), own=OWN, a=a / 2, k=k)

    await trading.bar(BTC, 6, 100.6, 100.9, 100.1, 100.3)  # down again: "a"'s exit sells its half
    await trading.bar(BTC, 7, 100.3, 100.5, 100.0, 100.4)
    assert_owners(await held_by(trading), own=OWN, k=k)
    assert_covered(await covered(trading), own=OWN, k=k)


async def test_a_stop_between_the_sells_end_and_the_put_back_puts_them_back_at_the_start(
    trading: TradingEngine,
) -> None:
    """The sell's end is committed, then the daemon stops before the exits are put back (kill -9): the
    journal still names them as that sell's, and the next start puts them back."""
    a, k = await _three_positions(trading)
    before = await levels(trading)
    sell = await _sell(trading, OWN + k / 2)
    journal = trading.trader.account.journal
    await journal.transition(sell["id"], OrderState.CANCELLED, reason="cancelled by hand")  # and no more

    trading = await trading.restart()

    assert_owners(await held_by(trading), own=OWN, a=a, k=k)
    assert_covered(await covered(trading), own=OWN, a=a, k=k)
    assert await levels(trading) == before
    trading = await trading.restart()  # once: nothing is put back twice
    assert_covered(await covered(trading), own=OWN, a=a, k=k)


async def test_an_exit_sized_before_the_put_back_never_sells_other_owners_coins(
    trading: TradingEngine,
) -> None:
    """A strategy's exit signal takes back its exits and sizes its sell on what the resting sell leaves it;
    the sell by hand is cancelled before that exit is checked, and the strategy's exits are put back for
    all it holds. The exit then finds none of the strategy's coins free: it is refused (its exits protect
    them, its next exit signal sells them), never resized to the account's free coins (bought by hand
    without exits) and booked as the strategy's."""
    a, k = await _three_positions(trading)
    account = trading.trader.account
    async with trading.client() as client:
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=FREE))
    await trading.bar(BTC, 4, 101.8, 102.2, 101.5, 102.0)  # bought: coins no exit reserves
    sell = await _sell(trading, FREE + OWN + k / 2)
    assert_covered(await covered(trading), a=a, k=k / 2)

    for order in await account.orders(open_only=True):  # "k"'s exit signal takes back its exits, then
        if order["strategy_id"] == "k" and order["parent_id"] is not None:
            await account.broker.cancel(order["id"], "exit signal")
    amount = await account.strategy_to_sell("k", BTC)  # what the sell by hand leaves it
    assert amount == pytest.approx(k / 2)
    await _cancel(trading, sell)  # meanwhile: "k"'s exits come back for all it holds
    assert_covered(await covered(trading), own=OWN, a=a, k=k)
    row, decision = await account.send(
        exit_request(BTC, amount, 102.0, strategy_id="k"), 102.0, account.placed_ts(BTC), strategy_id="k"
    )

    assert row is None and decision.verdict == "reject"
    await trading.bar(BTC, 5, 102.0, 102.4, 101.8, 102.3)  # an up bar: nothing to fill
    assert_owners(await held_by(trading), own=OWN + FREE, a=a, k=k)
    assert_covered(await covered(trading), own=OWN, a=a, k=k)
