"""Selling part or all of a live strategy's position by hand (``mt trade sell --live``, ``POST /v1/orders``:
``Account.place``) while its exits rest at the exchange.

The strategy's stop and take-profit (one OCO list, ``native_stops``) hold its coins, so the sell was
refused: "the 0.125 held are all reserved by open sell orders ...: cancel one of them first", and a
cancel of the stop was refused in turn ("sell the position instead"), or, with ``--unprotect``, undone by
the protection at the next price. Now the exits are taken back under the position's lock, the sell is
sent, and the protection places them again at its own levels for what is left: never the old full size,
never a second set beside them, across a restart and a kill between the steps. The sell is the
strategy's (its share of the account shrinks with it): its exit signal sells what is left, and after a
whole sell it enters again at its next signal.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from mastertrade import errors
from mastertrade.engine.execution.protector import Protector
from mastertrade.engine.execution.trader import Trader
from tests.fakes.exchange_trading import DeskOrder, TradingExchange
from tests.trading.live_rig import hand_sells, open_desk, resting_sells
from tests.trading.test_live_protection import BTC, Desk


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


def _assert_one_pair(exchange: TradingExchange, amount: float, stop: DeskOrder, take: DeskOrder) -> None:
    """One OCO list at the strategy's levels for ``amount``, and nothing else resting or reserved."""
    new_stop, new_take = resting_sells(exchange)
    assert (new_stop.type, new_take.type) == ("STOP_LOSS_LIMIT", "LIMIT_MAKER")
    assert new_stop.list_id == new_take.list_id >= 0
    assert new_stop.quantity == new_take.quantity == pytest.approx(amount)
    assert (new_stop.stop_price, new_take.price) == (stop.stop_price, take.price)
    assert exchange.locked["BTC"] == pytest.approx(amount)


async def _entered(desk: Desk) -> tuple[Trader, DeskOrder, DeskOrder, DeskOrder]:
    trader = await desk.run()
    buy = await desk.enter(trader)
    stop, take = resting_sells(desk.exchange)
    assert stop.quantity == take.quantity == pytest.approx(buy.executed)
    return trader, buy, stop, take


async def test_a_partial_sell_resizes_the_strategys_exits_and_its_share(desk: Desk) -> None:
    trader, buy, stop, take = await _entered(desk)
    half = buy.executed / 2
    journal = trader.account.journal
    old = [await journal.get(client_order_id=o.client_order_id) for o in (stop, take)]

    answer = await trader.account.place(BTC, "sell", half, live=True)

    sold = answer["order"]
    assert sold["state"] == "filled" and sold["filled"] == pytest.approx(half)
    assert sold["strategy_id"] == "guarded"  # the strategy's position shrank, not the account's own
    _assert_one_pair(desk.exchange, half, stop, take)
    new_stop, new_take = resting_sells(desk.exchange)
    new = [await journal.get(client_order_id=o.client_order_id) for o in (new_stop, new_take)]
    assert answer["exits"] == (
        f"strategy guarded's exits order {old[0].id} (stop-loss), order {old[1].id} (take-profit) were taken "
        f"back for the sell; its protection placed them again for the {half:.8g} {BTC} left: "
        f"order {new[0].id} (stop-loss), order {new[1].id} (take-profit)"
    )
    assert await trader.account.strategy_holding("guarded", BTC) == pytest.approx(half)
    [record] = await desk.protections()
    assert record.state == "active"

    # the re-protection keeps that one pair: not the old size again, not a second set beside it
    await trader.housekeeping()
    await desk.tick(trader, 40_500.0)
    await desk.close_bar(trader, 40_000.0, 40_600.0, 39_900.0, 40_500.0)  # an up bar: no exit
    await trader.housekeeping()
    _assert_one_pair(desk.exchange, half, stop, take)
    await trader.close()
    restarted = await desk.run()
    await restarted.housekeeping()
    _assert_one_pair(desk.exchange, half, stop, take)

    # the strategy's exit signal sells what is left, and only that
    await desk.close_bar(restarted, 40_500.0, 40_600.0, 40_000.0, 40_100.0)
    exits = [o for o in hand_sells(desk.exchange) if o.status == "FILLED"]
    assert [o.quantity for o in exits] == [pytest.approx(half), pytest.approx(half)]
    assert await restarted.account.positions() == [] and resting_sells(desk.exchange) == []
    assert desk.exchange.balance("BTC") == pytest.approx(0.0, abs=1e-9)


async def test_a_whole_sell_ends_the_protection_and_the_strategy_enters_again(desk: Desk) -> None:
    trader, buy, stop, take = await _entered(desk)

    answer = await trader.account.place(BTC, "sell", buy.executed, live=True)

    assert answer["order"]["state"] == "filled"
    assert answer["exits"].endswith("strategy guarded's protection of BTC/USDT ended with the position")
    assert resting_sells(desk.exchange) == [] and await trader.account.positions() == []
    [record] = await desk.protections()
    closed = f"the position was closed by a manual sell (order {answer['order']['id']})"
    assert (record.state, record.reason) == ("closed", closed)
    assert await trader.account.strategy_holding("guarded", BTC) == 0.0

    await desk.close_bar(trader, 40_000.0, 40_600.0, 39_900.0, 40_500.0)  # its next entry signal
    assert [o.status for o in desk.orders("BUY")] == ["FILLED", "FILLED"]
    assert len(resting_sells(desk.exchange)) == 2  # the new entry's own exits


async def test_a_daemon_killed_after_taking_the_exits_back_puts_them_back_and_sends_nothing(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    trader, buy, stop, take = await _entered(desk)
    monkeypatch.setattr(trader.account.broker, "submit", _killed)  # dies before the sell is journaled
    monkeypatch.setattr(Protector, "_after_sell_by_hand", _killed)
    with pytest.raises(Killed):
        await trader.account.place(BTC, "sell", buy.executed / 2, live=True)
    assert resting_sells(desk.exchange) == []  # taken back, nothing sent
    monkeypatch.undo()

    restarted = await desk.run()

    _assert_one_pair(desk.exchange, buy.executed, stop, take)  # the whole position protected again
    assert hand_sells(desk.exchange) == []
    await restarted.housekeeping()
    await desk.tick(restarted, 40_100.0)
    _assert_one_pair(desk.exchange, buy.executed, stop, take)


async def test_a_daemon_killed_after_the_sell_protects_the_rest_once_at_the_next_start(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    trader, buy, stop, take = await _entered(desk)
    half = buy.executed / 2
    monkeypatch.setattr(Protector, "_after_sell_by_hand", _killed)  # dies once the sell is sent
    with pytest.raises(Killed):
        await trader.account.place(BTC, "sell", half, live=True)
    [sold] = hand_sells(desk.exchange)
    assert sold.status == "FILLED" and resting_sells(desk.exchange) == []
    monkeypatch.undo()

    restarted = await desk.run()
    await restarted.housekeeping()
    await desk.tick(restarted, 40_100.0)

    _assert_one_pair(desk.exchange, half, stop, take)
    assert len(hand_sells(desk.exchange)) == 1
    assert await restarted.account.strategy_holding("guarded", BTC) == pytest.approx(half)


async def test_a_sell_the_limits_refuse_leaves_the_exits_resting(desk: Desk) -> None:
    trader, buy, stop, take = await _entered(desk)
    with pytest.raises(errors.RiskRejected, match="the limits allow"):
        await trader.account.place(BTC, "sell", buy.executed * 2, live=True)
    assert stop.status == take.status == "NEW"  # never touched
    assert hand_sells(desk.exchange) == []


async def test_a_sell_while_the_strategys_stop_is_selling_says_to_wait_for_it(desk: Desk) -> None:
    trader, buy, stop, take = await _entered(desk)
    desk.exchange.set_price(BTC, 37_000.0)  # under the stop and its limit: triggered, resting as a limit
    with desk.exchange._desk:  # a buyer takes part of it at its limit
        desk.exchange._fill(stop, buy.executed / 4, stop.price or 0.0, locked=True)
    await trader.account.poll()  # the part is booked
    row = await trader.account.journal.get(client_order_id=stop.client_order_id)
    assert row.state == "partially_filled"

    with pytest.raises(errors.UserInputError) as refused:
        await trader.account.place(BTC, "sell", buy.executed / 2, live=True)

    assert str(refused.value) == (
        f"sell of {buy.executed / 2:.8g} {BTC}: strategy guarded's stop-loss order {row.id} has triggered "
        f"and is selling the position ({buy.executed / 4:.8g} of {buy.executed:.8g} sold so far): wait for "
        f"it to end (`mt orders show {row.id}`), then sell what it leaves"
    )
    assert hand_sells(desk.exchange) == [] and stop.status == "PARTIALLY_FILLED"


@pytest.mark.parametrize("restart_after_s", [0.0, 120.0])
async def test_a_daemon_killed_between_journaling_the_sell_and_sending_it_ends_with_one_set(
    desk: Desk, monkeypatch: pytest.MonkeyPatch, restart_after_s: float
) -> None:
    """Restarted at once, the sell's intent is sent (by client order id, once), then the protection
    places the exits for what it left; restarted after ``intent_max_age_s``, the sell is cancelled
    unsent and the exits are placed again for the whole position."""
    trader, buy, stop, take = await _entered(desk)
    half = buy.executed / 2
    monkeypatch.setattr(trader.account.broker, "_send", _killed)  # the sell journaled, never sent
    monkeypatch.setattr(Protector, "_after_sell_by_hand", _killed)
    with pytest.raises(Killed):
        await trader.account.place(BTC, "sell", half, live=True, client_order_id="by-hand")
    assert resting_sells(desk.exchange) == [] and hand_sells(desk.exchange) == []
    monkeypatch.undo()
    desk.clock.offset += timedelta(seconds=restart_after_s)

    restarted = await desk.run()
    await restarted.housekeeping()

    sell = await restarted.account.journal.get(client_order_id="by-hand")
    if restart_after_s:
        assert sell.state == "cancelled" and hand_sells(desk.exchange) == []
        _assert_one_pair(desk.exchange, buy.executed, stop, take)
    else:
        assert sell.state == "filled" and len(desk.exchange.orders_for("by-hand")) == 1
        _assert_one_pair(desk.exchange, half, stop, take)


async def test_a_take_profit_filled_in_part_is_taken_back_and_the_rest_gets_one_pair(desk: Desk) -> None:
    """The exchange expired the stop at the take-profit's first fill; the sell by hand takes the rest of
    the take-profit back and the protection protects what the sell leaves with one pair."""
    trader, buy, stop, take = await _entered(desk)
    part = buy.executed * 0.2
    desk.exchange.fill_part(take.client_order_id, part)
    await trader.account.poll()  # the part is booked, the stop seen expired
    journal = trader.account.journal
    assert (await journal.get(client_order_id=take.client_order_id)).state == "partially_filled"

    answer = await trader.account.place(BTC, "sell", part, live=True)

    assert answer["order"]["state"] == "filled" and answer["order"]["strategy_id"] == "guarded"
    assert take.status == "CANCELED"
    left = buy.executed - 2 * part
    _assert_one_pair(desk.exchange, left, stop, take)
    await trader.housekeeping()
    await desk.tick(trader, 40_100.0)
    _assert_one_pair(desk.exchange, left, stop, take)
