"""A live symbol holding both a buy bracketed by hand (``mt trade buy ... --stop-loss --take-profit``)
and a strategy's position whose exits its protection keeps at the exchange.

A sell by hand was refused with the risk check's generic words ("the 0.135 held are all reserved by
open sell orders ...: cancel one of them first"): the plan knew the bracket-only case and the
strategy-only case, not both at once. Now a sell of the account's own coins replaces the hand-placed
exits as the bracket-only case does (cancels confirmed by client order id, new exits for the rest at
the hand levels, then the sell) and leaves the strategy's exits resting untouched; a sell reaching into
the strategy's coins is refused naming both owners' orders and the two commands that sell as much. A
kill at each step leaves one set of exits per owner and the sell sent at most once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from mastertrade import errors
from mastertrade.engine.execution import live_bracket_sell, live_oco
from mastertrade.engine.execution.trader import Trader
from tests.fakes.exchange_trading import DeskOrder, TradingExchange
from tests.trading.live_rig import hand_sells, open_desk
from tests.trading.test_live_protection import BTC, Desk

HAND = 0.01
"""What the trader bought by hand, beside the strategy's 0.125."""


class Killed(BaseException):
    """The daemon dies here."""


async def _killed(*_: Any, **__: Any) -> Any:
    raise Killed


@pytest.fixture
def exchange() -> Any:
    yield from open_desk()


@pytest.fixture
async def desk(database: Any, exchange: TradingExchange) -> Any:
    desk = Desk(database, exchange, native=True, stop_loss=0.05, take_profit=0.1)
    try:
        yield desk
    finally:
        await desk.close()


def _pairs(exchange: TradingExchange) -> dict[int, list[DeskOrder]]:
    """The OCO lists resting at the exchange, each as [stop, take-profit]."""
    pairs: dict[int, list[DeskOrder]] = {}
    for order in exchange.orders.values():
        if order.side == "SELL" and order.status == "NEW":
            pairs.setdefault(order.list_id, []).append(order)
    return {key: sorted(legs, key=lambda o: o.type != "STOP_LOSS_LIMIT") for key, legs in pairs.items()}


async def _both(desk: Desk) -> tuple[Trader, list[DeskOrder], list[DeskOrder]]:
    """The strategy's entry (0.125 BTC, exits at 38,000/44,000), then a buy by hand of 0.01 with its own
    exits (38,800/48,000): two OCO lists, every coin reserved."""
    trader = await desk.run()
    buy = await desk.enter(trader)
    assert buy.executed == pytest.approx(0.125)
    placed = await trader.account.place(BTC, "buy", HAND, live=True, stop_loss=0.03, take_profit=0.2)
    assert placed["order"]["state"] == "filled"
    strategy, hand = _pairs(desk.exchange).values()
    assert [o.stop_price for o in strategy] == [38_000.0, None] and strategy[1].price == 44_000.0
    assert [o.stop_price for o in hand] == [38_800.0, None] and hand[1].price == 48_000.0
    assert desk.exchange.locked["BTC"] == pytest.approx(0.135)
    return trader, strategy, hand


def _assert_sets(
    exchange: TradingExchange, strategy: list[DeskOrder], hand: list[DeskOrder], rest: float
) -> None:
    """The strategy's list untouched (the same orders, still resting), and one list at the hand levels
    for ``rest`` (none when 0); nothing else resting, nothing reserved beyond what is held."""
    pairs = _pairs(exchange)
    assert pairs.pop(strategy[0].list_id) == strategy  # not cancelled, not replaced
    if rest:
        [(stop, take)] = pairs.values()
        assert (stop.stop_price, take.price) == (hand[0].stop_price, hand[1].price)
        assert stop.quantity == take.quantity == pytest.approx(rest)
    else:
        assert pairs == {}
    assert exchange.locked["BTC"] == pytest.approx(0.125 + rest)
    assert exchange.balance("BTC") == pytest.approx(0.125 + rest)


async def test_a_sell_of_the_accounts_own_coins_replaces_only_the_hand_placed_exits(desk: Desk) -> None:
    trader, strategy, hand = await _both(desk)
    journal = trader.account.journal

    answer = await trader.account.place(BTC, "sell", 0.004, live=True)

    assert answer["order"]["state"] == "filled" and answer["order"]["strategy_id"] is None
    _assert_sets(desk.exchange, strategy, hand, 0.006)
    old = [await journal.get(client_order_id=o.client_order_id) for o in hand]
    assert answer["exits"].startswith(
        f"its exits order {old[0].id} (stop-loss), order {old[1].id} (take-profit) were resized to 0.006"
    )
    asked = {r.params.get("origClientOrderId") for r in desk.exchange.requests_to("/api/v3/order")}
    assert {o.client_order_id for o in hand} <= asked  # each cancel confirmed by client id
    assert await trader.account.strategy_holding("guarded", BTC) == pytest.approx(0.125)

    # the protection keeps its one list, the hand rest keeps its own, across polls and a restart
    await trader.housekeeping()
    await desk.tick(trader, 40_500.0)
    _assert_sets(desk.exchange, strategy, hand, 0.006)
    restarted = await desk.run()
    await restarted.housekeeping()
    await desk.tick(restarted, 40_400.0)
    _assert_sets(desk.exchange, strategy, hand, 0.006)
    assert len(hand_sells(desk.exchange)) == 1


async def test_a_sell_beyond_the_accounts_own_coins_is_refused_naming_both_and_the_two_commands_work(
    desk: Desk,
) -> None:
    trader, strategy, hand = await _both(desk)
    journal = trader.account.journal
    own = [await journal.get(client_order_id=o.client_order_id) for o in hand]
    theirs = [await journal.get(client_order_id=o.client_order_id) for o in strategy]

    with pytest.raises(errors.UserInputError) as refused:
        await trader.account.place(BTC, "sell", 0.1, live=True)

    assert str(refused.value) == (
        f"sell of 0.1 {BTC}: only 0.01 of the 0.135 BTC held are the account's own, protected by order "
        f"{own[0].id} (stop-loss), order {own[1].id} (take-profit) (bought with --stop-loss/--take-profit); "
        f"strategy guarded's exits order {theirs[0].id} (stop-loss), order {theirs[1].id} (take-profit) are "
        "kept by its protection: one sell by hand replaces one owner's exits, so sell the account's own "
        f"first (`mt trade sell {BTC} 0.01 --live`), then the 0.09 left to sell from the strategy's "
        f"position (`mt trade sell {BTC} 0.09 --live`)"
    )
    _assert_sets(desk.exchange, strategy, hand, HAND)  # nothing touched
    assert hand_sells(desk.exchange) == []

    first = await trader.account.place(BTC, "sell", 0.01, live=True)
    assert (
        first["exits"]
        == f"its exits were cancelled: order {own[0].id} (stop-loss), order {own[1].id} (take-profit)"
    )
    _assert_sets(desk.exchange, strategy, hand, 0.0)
    second = await trader.account.place(BTC, "sell", 0.09, live=True)
    assert second["order"]["state"] == "filled" and second["order"]["strategy_id"] == "guarded"
    [(stop, take)] = _pairs(desk.exchange).values()  # the strategy's levels, for what it has left
    assert (stop.stop_price, take.price) == (strategy[0].stop_price, strategy[1].price)
    assert stop.quantity == take.quantity == pytest.approx(0.035)
    assert desk.exchange.locked["BTC"] == pytest.approx(0.035)


STEPS = {
    "before the cancels": ("broker", "cancel"),
    "between the cancels and the new exits": ("module", "send_exits"),
    "before the sell is sent": ("broker", "_send"),
    "after the sell is sent": ("module", "settle"),
}


@pytest.mark.parametrize("late", [False, True], ids=["restarted at once", "restarted too late"])
@pytest.mark.parametrize("step", list(STEPS))
async def test_a_kill_at_each_step_leaves_one_set_per_owner_and_the_sell_sent_at_most_once(
    desk: Desk, monkeypatch: pytest.MonkeyPatch, step: str, late: bool
) -> None:
    trader, strategy, hand = await _both(desk)
    where, name = STEPS[step]
    owner: Any = (
        trader.account.broker
        if where == "broker"
        else (live_oco if name == "send_exits" else live_bracket_sell)
    )
    monkeypatch.setattr(owner, name, _killed)
    with pytest.raises(Killed):
        await trader.account.place(BTC, "sell", 0.004, live=True, client_order_id="by-hand")
    monkeypatch.undo()
    desk.clock.offset += timedelta(seconds=120.0 if late else 0.0)

    restarted = await desk.run()
    await restarted.housekeeping()
    await desk.tick(restarted, 40_100.0)
    await restarted.housekeeping()

    sent = desk.exchange.orders_for("by-hand")
    sell = await restarted.account.journal.get(client_order_id="by-hand")
    if not late or step == "after the sell is sent":  # carried on, by client order id
        assert sell.state == "filled" and len(sent) == 1
        _assert_sets(desk.exchange, strategy, hand, 0.006)
    else:  # rolled back: never sent, the hand exits for all that is held
        assert sell.state == "cancelled" and sent == []
        _assert_sets(desk.exchange, strategy, hand, HAND)
    if step == "before the cancels" and late:
        assert _pairs(desk.exchange)[hand[0].list_id] == hand  # the old list never left
