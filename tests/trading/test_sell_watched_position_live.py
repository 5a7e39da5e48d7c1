"""A sell by hand (``mt trade sell --live``, ``POST /v1/orders``) on a live symbol where a strategy holds
a position whose exits only the daemon keeps (``[execution] native_stops = false``: its stop-loss and
take-profit are watched by the daemon, nothing rests at the exchange for them).

Nothing reserved the strategy's coins, so the sell took them first: beside a buy bracketed by hand, the
hand-placed exits kept covering all the account's own coins while the sell sold the strategy's, and a
sell of the strategy's position said nothing of it. Now it is as with the exits resting at the
exchange (``test_sell_mixed_exits_live``, ``test_sell_strategy_position_live``): a sell of the
account's own coins replaces the hand-placed exits for what it leaves; one reaching past them is
refused naming the strategy's position and the two commands that sell as much; a sell of the
strategy's position sells it and says what it took and what the protection still watches.
``POST /v1/orders/check`` answers each the same way.
"""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade import errors
from mastertrade.engine.api.order_check import dry_run
from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.engine.execution.trader import Trader
from tests.fakes.exchange_trading import DeskOrder, TradingExchange
from tests.trading.live_rig import hand_sells, open_desk, resting_sells
from tests.trading.test_live_protection import BTC, Desk

HAND = 0.01
"""What the trader bought by hand, beside the strategy's 0.125."""


@pytest.fixture
def exchange() -> Any:
    yield from open_desk()


@pytest.fixture
async def desk(database: Any, exchange: TradingExchange) -> Any:
    desk = Desk(database, exchange, native=False, stop_loss=0.05, take_profit=0.1)
    try:
        yield desk
    finally:
        await desk.close()


async def _both(desk: Desk) -> tuple[Trader, list[DeskOrder]]:
    """The strategy's entry (0.125 BTC, watched by the daemon: nothing rests), then a buy by hand of
    0.01 with its own exits at the exchange (one OCO list)."""
    trader = await desk.run()
    buy = await desk.enter(trader)
    assert buy.executed == pytest.approx(0.125) and resting_sells(desk.exchange) == []
    placed = await trader.account.place(BTC, "buy", HAND, live=True, stop_loss=0.03, take_profit=0.2)
    assert placed["order"]["state"] == "filled"
    hand = resting_sells(desk.exchange)
    assert [o.quantity for o in hand] == [pytest.approx(HAND)] * 2
    return trader, hand


async def _check(trader: Trader, amount: float) -> dict[str, Any]:
    return await dry_run(trader.account, OrderCreate(symbol=BTC, side="sell", amount=amount))


async def test_a_sell_of_the_accounts_own_coins_resizes_the_hand_placed_exits(desk: Desk) -> None:
    trader, hand = await _both(desk)
    journal = trader.account.journal
    old = [await journal.get(client_order_id=o.client_order_id) for o in hand]
    assert (await _check(trader, 0.004))["verdict"] == "approve"

    answer = await trader.account.place(BTC, "sell", 0.004, live=True)

    assert answer["order"]["state"] == "filled" and answer["order"]["strategy_id"] is None
    assert answer["exits"].startswith(
        f"its exits order {old[0].id} (stop-loss), order {old[1].id} (take-profit) were resized to 0.006"
    )
    stop, take = resting_sells(desk.exchange)  # the hand levels, for the account's own coins left
    assert (stop.stop_price, take.price) == (hand[0].stop_price, hand[1].price)
    assert stop.quantity == take.quantity == pytest.approx(0.006)
    assert await trader.account.strategy_holding("guarded", BTC) == pytest.approx(0.125)


async def test_a_sell_beyond_the_accounts_own_coins_is_refused_naming_the_strategy_and_the_commands_work(
    desk: Desk,
) -> None:
    trader, hand = await _both(desk)
    journal = trader.account.journal
    own = [await journal.get(client_order_id=o.client_order_id) for o in hand]
    said = (
        f"sell of 0.1 {BTC}: only 0.01 of the 0.135 BTC held are the account's own, protected by order "
        f"{own[0].id} (stop-loss), order {own[1].id} (take-profit) (bought with --stop-loss/--take-profit); "
        "strategy guarded holds 0.125 BTC, its exits kept by the daemon (none rests at the exchange): one "
        "sell by hand replaces one owner's exits, so sell the account's own first "
        f"(`mt trade sell {BTC} 0.01 --live`), then the 0.09 left to sell from the strategy's position "
        f"(`mt trade sell {BTC} 0.09 --live`)"
    )
    with pytest.raises(errors.UserInputError) as checked:
        await _check(trader, 0.1)
    assert str(checked.value) == said

    with pytest.raises(errors.UserInputError) as refused:
        await trader.account.place(BTC, "sell", 0.1, live=True)

    assert str(refused.value) == said
    assert hand_sells(desk.exchange) == [] and resting_sells(desk.exchange) == hand  # nothing touched

    first = await trader.account.place(BTC, "sell", 0.01, live=True)
    assert (
        first["exits"]
        == f"its exits were cancelled: order {own[0].id} (stop-loss), order {own[1].id} (take-profit)"
    )
    assert resting_sells(desk.exchange) == []
    second = await trader.account.place(BTC, "sell", 0.09, live=True)
    assert second["order"]["state"] == "filled" and second["order"]["strategy_id"] == "guarded"
    assert second["exits"] == (
        f"the sell takes 0.09 of strategy guarded's 0.125 {BTC}; its protection, kept by the daemon "
        "(none rests at the exchange), watches the 0.035 left"
    )
    assert await trader.account.strategy_holding("guarded", BTC) == pytest.approx(0.035)
    [record] = await desk.protections()
    assert record.state == "active"


async def test_a_sell_of_the_strategys_position_says_what_it_took_and_the_protection_sells_the_rest(
    desk: Desk,
) -> None:
    trader = await desk.run()
    buy = await desk.enter(trader)
    half = buy.executed / 2

    answer = await trader.account.place(BTC, "sell", half, live=True)

    assert answer["order"]["strategy_id"] == "guarded"
    assert answer["exits"] == (
        f"the sell takes {half:.8g} of strategy guarded's {buy.executed:.8g} {BTC}; its protection, kept "
        f"by the daemon (none rests at the exchange), watches the {half:.8g} left"
    )
    for price in (37_900.0, 37_500.0):  # under its stop: the protection sells what is left, once
        await desk.tick(trader, price)
    sells = hand_sells(desk.exchange)
    assert [o.quantity for o in sells] == [pytest.approx(half)] * 2
    assert await trader.account.positions() == []


async def test_a_whole_sell_of_the_strategys_position_says_its_protection_ends(desk: Desk) -> None:
    trader = await desk.run()
    buy = await desk.enter(trader)

    answer = await trader.account.place(BTC, "sell", buy.executed, live=True)

    assert answer["exits"] == (
        f"the sell takes all of strategy guarded's {buy.executed:.8g} {BTC}; its protection ends with "
        "the position"
    )
    [record] = await desk.protections()
    assert record.state == "closed"
