"""``mt orders cancel`` of a live take-profit keeps the position's stop.

The exchange cancels an OCO list as one: cancelling the take-profit leg cancelled the stop leg too, and
since that cancel was MasterTrade's own the stop was not put back, so a trader who meant to drop only the
take-profit left the position without any stop, without a word. Now the stop is placed again alone
(once the exchange confirms by client order id that it is cancelled), under a client order id derived
from the old stop's, so a crash at any point never makes two; the take-profit's reason names the new
stop. ``--unprotect`` still cancels the list as one.

And on a venue without OCO lists, a stop cancelled on the website was put back alone while the
take-profit the daemon keeps for it was no longer watched; the stop placed again is linked to it.
"""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.engine import events
from mastertrade.engine.candle import Bar, Candle
from mastertrade.engine.execution import exit_cancels, live_oco
from mastertrade.engine.market.timeframes import now_ms
from tests.fakes.exchange_trading import DeskOrder
from tests.trading.live_rig import BTC, Rig, bracketed, buy, resting_buy


class Killed(BaseException):
    """The daemon dies here."""


async def _killed(*_: Any, **__: Any) -> Any:
    raise Killed


def _alerts(published: list[events.Event]) -> list[events.RiskBreached]:
    return [e for e in published if isinstance(e, events.RiskBreached) and e.limit == exit_cancels.LIMIT]


def _resting(rig: Rig) -> list[DeskOrder]:
    return [o for o in rig.desk.orders.values() if o.side == "SELL" and o.status == "NEW"]


async def _assert_stop_alone(rig: Rig, old: DeskOrder) -> DeskOrder:
    [stop] = _resting(rig)
    assert (stop.type, stop.list_id) == ("STOP_LOSS_LIMIT", -1)
    assert (stop.stop_price, stop.price) == (old.stop_price, old.price)
    assert stop.quantity == pytest.approx(0.1)
    old_row = await rig.journal.get(client_order_id=old.client_order_id)
    assert stop.client_order_id == exit_cancels.successor_ids(old_row)[0]
    return stop


async def test_cancelling_the_take_profit_keeps_the_stop_placed_again_alone(rig: Rig) -> None:
    broker, published, stop, take = await bracketed(rig)
    take_row = await rig.journal.get(client_order_id=take.client_order_id)
    assert take_row.id is not None

    answered = await broker.cancel_keeping_stop(take_row.id)

    assert answered is not None and answered.state == "cancelled"
    assert stop.status == "CANCELED" and take.status == "CANCELED"  # the exchange cancelled the list
    new = await _assert_stop_alone(rig, stop)
    new_row = await rig.journal.get(client_order_id=new.client_order_id)
    old_row = await rig.journal.get(client_order_id=stop.client_order_id)
    assert new_row.role == "stop_loss" and new_row.parent_id == old_row.parent_id and new_row.oco is None
    assert answered.reason is not None
    assert answered.reason.startswith(exit_cancels.TAKE_PROFIT_ONLY)
    assert f"placed again alone as stop-loss order {new_row.id} (client id {new.client_order_id})" in (
        answered.reason
    )
    assert (old_row.state, old_row.reason) == (
        "cancelled",
        f"{exit_cancels.KEPT}: placed again alone as stop-loss order {new_row.id} "
        f"(client id {new.client_order_id})",
    )
    # the old stop's lookup by client id confirmed it cancelled before the new one went
    asked = [r for r in rig.desk.requests_to("/api/v3/order") if r.method == "GET"]
    assert stop.client_order_id in {r.params.get("origClientOrderId") for r in asked}
    assert _alerts(published) == []  # asked for: not an alert

    await broker.poll()
    await rig.started()
    assert len(rig.desk.placed) == 4 and len(_resting(rig)) == 1
    await rig.assert_reconciled()

    # the new stop still protects the position: its cancel asks for --unprotect (stop_guard), and the
    # exchange sells at it
    rig.desk.set_price(BTC, 37_900.0)
    await broker.poll()
    assert new.status == "FILLED"
    assert (await broker.ledger()).held(BTC) == pytest.approx(0.0, abs=1e-12)


async def test_a_daemon_killed_after_asking_the_take_profits_cancel_places_the_stop_once_at_the_next_start(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker, published, stop, take = await bracketed(rig)
    take_row = await rig.journal.get(client_order_id=take.client_order_id)
    assert take_row.id is not None
    monkeypatch.setattr(broker, "_resolve", _killed)  # dies after asking, before reading the answer
    with pytest.raises(Killed):
        await broker.cancel_keeping_stop(take_row.id)
    assert stop.status == "CANCELED" and _resting(rig) == []

    restarted = await rig.started()
    restarted.publish = published.append
    await _assert_stop_alone(rig, stop)
    await restarted.poll()
    await rig.started()
    assert len(rig.desk.placed) == 4 and _alerts(published) == []
    assert (await rig.journal.get(take_row.id)).reason == exit_cancels.TAKE_PROFIT_ONLY
    await rig.assert_reconciled()


async def test_a_daemon_killed_between_journaling_the_stop_and_sending_it_sends_it_once(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker, _, stop, take = await bracketed(rig)
    take_row = await rig.journal.get(client_order_id=take.client_order_id)
    assert take_row.id is not None
    monkeypatch.setattr(exit_cancels, "_send", _killed)
    with pytest.raises(Killed):
        await broker.cancel_keeping_stop(take_row.id)
    old_row = await rig.journal.get(client_order_id=stop.client_order_id)
    intent = await rig.journal.get(client_order_id=exit_cancels.successor_ids(old_row)[0])
    assert intent.state == "intent" and _resting(rig) == []
    monkeypatch.undo()

    await rig.started()
    await _assert_stop_alone(rig, stop)
    await rig.started()
    assert len(rig.desk.placed) == 4
    await rig.assert_reconciled()


async def test_unprotect_cancels_the_list_as_one_and_places_nothing(rig: Rig) -> None:
    broker, published, stop, take = await bracketed(rig)
    take_row = await rig.journal.get(client_order_id=take.client_order_id)
    assert take_row.id is not None
    await broker.cancel(take_row.id)  # mt orders cancel ID --unprotect: the account's plain cancel
    await broker.poll()
    await broker.poll()
    assert _resting(rig) == [] and len(rig.desk.placed) == 3 and _alerts(published) == []


async def test_a_take_profit_of_a_still_filling_buys_part_is_refused_naming_unprotect(rig: Rig) -> None:
    from mastertrade import errors

    broker = await rig.started()
    entry = await resting_buy(broker)
    rig.desk.fill_part(entry.client_order_id, 0.03)
    await broker.poll()
    [take] = [o for o in rig.desk.placed if o.type == "LIMIT_MAKER"]
    take_row = await rig.journal.get(client_order_id=take.client_order_id)
    assert take_row.id is not None
    with pytest.raises(errors.StopProtectsPosition, match=rf"mt orders cancel {take_row.id} --unprotect"):
        await broker.cancel_keeping_stop(take_row.id)
    assert take.status == "NEW" and len(_resting(rig)) == 2


async def test_without_oco_a_stop_cancelled_on_the_website_is_placed_again_with_its_held_take_profit(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_oco, "OCO_VENUES", frozenset())  # a venue with stops but no OCO lists
    broker = await rig.started()
    published: list[events.Event] = []
    broker.publish = published.append
    entry = await broker.submit(
        buy(0.1, stop_loss=0.05, take_profit=0.1, reference_price=40_000.0), placed_ts=now_ms()
    )
    [stop] = [o for o in rig.desk.placed if o.type == "STOP_LOSS_LIMIT"]
    [held] = await broker.held_exits()

    rig.desk.cancel_by_hand(stop.client_order_id)
    await broker.poll()

    await _assert_stop_alone(rig, stop)
    assert [row["order_id"] for row in await broker.held_exits()] == [held["order_id"]]
    [alert] = _alerts(published)
    assert f"take-profit order {held['order_id']}" in alert.message and "watched again" in alert.message
    restarted = await rig.started()
    assert len(await restarted.held_exits()) == 1 and len(rig.desk.placed) == 3

    # the price reaches the take-profit: the new stop is taken back and the take-profit sells
    rig.desk.set_price(BTC, 44_500.0)
    await restarted.on_bar(BTC, Bar(Candle(now_ms(), 44_400.0, 44_600.0, 44_300.0, 44_500.0)))
    children = [row for row in await rig.journal.orders(book="live") if row.parent_id == entry.id]
    [take_row] = [row for row in children if row.role == "take_profit"]
    assert take_row.state == "filled" and take_row.filled == pytest.approx(0.1)
    assert {row.state for row in children if row.role == "stop_loss"} == {"cancelled"}
    assert (await restarted.ledger()).held(BTC) == pytest.approx(0.0, abs=1e-12)
    await rig.assert_reconciled()


async def test_without_oco_a_stop_cancelled_while_the_daemon_was_down_keeps_its_take_profit_held(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_oco, "OCO_VENUES", frozenset())
    broker = await rig.started()
    await broker.submit(
        buy(0.1, stop_loss=0.05, take_profit=0.1, reference_price=40_000.0), placed_ts=now_ms()
    )
    [stop] = [o for o in rig.desk.placed if o.type == "STOP_LOSS_LIMIT"]
    [held] = await broker.held_exits()
    await broker.close()

    rig.desk.cancel_by_hand(stop.client_order_id)
    restarted = await rig.started()

    await _assert_stop_alone(rig, stop)  # not the take-profit sent to rest at the exchange in its place
    assert [row["order_id"] for row in await restarted.held_exits()] == [held["order_id"]]
    await restarted.poll()
    assert len(rig.desk.placed) == 3
    await rig.assert_reconciled()


async def test_the_rest_of_a_take_profit_filled_in_part_cancelled_by_hand_gets_its_stop_back_alone(
    rig: Rig,
) -> None:
    """The exchange expired the stop at the take-profit's first fill; the price is at the take-profit,
    so the daemon leaves its rest filling (``live_oco.reprotect``): the trader cancels that rest, and
    what is left gets its stop back, alone."""
    broker, published, stop, take = await bracketed(rig)
    await broker.on_bar(BTC, Bar(Candle(now_ms(), 44_000.0, 44_100.0, 43_900.0, 44_000.0)))
    rig.desk.fill_part(take.client_order_id, 0.04)
    await broker.poll()
    assert stop.status == "EXPIRED" and take.status == "PARTIALLY_FILLED"
    take_row = await rig.journal.get(client_order_id=take.client_order_id)
    assert take_row.id is not None

    answered = await broker.cancel_keeping_stop(take_row.id)

    assert answered is not None and answered.state == "cancelled"
    [new] = _resting(rig)
    assert (new.type, new.list_id, new.stop_price) == ("STOP_LOSS_LIMIT", -1, stop.stop_price)
    assert new.quantity == pytest.approx(0.06)
    assert answered.reason is not None and "placed again alone as stop-loss order" in answered.reason
    await broker.poll()
    await rig.started()
    assert len(rig.desk.placed) == 4 and _alerts(published) == []
    await rig.assert_reconciled()


async def test_a_daemon_killed_while_cancelling_a_take_profits_rest_gives_it_its_stop_at_the_next_start(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker, _, stop, take = await bracketed(rig)
    await broker.on_bar(BTC, Bar(Candle(now_ms(), 44_000.0, 44_100.0, 43_900.0, 44_000.0)))
    rig.desk.fill_part(take.client_order_id, 0.04)
    await broker.poll()
    take_row = await rig.journal.get(client_order_id=take.client_order_id)
    assert take_row.id is not None
    monkeypatch.setattr(broker, "_resolve", _killed)
    with pytest.raises(Killed):
        await broker.cancel_keeping_stop(take_row.id)
    assert take.status == "CANCELED" and _resting(rig) == []

    await rig.started()
    [new] = _resting(rig)
    assert (new.type, new.list_id, new.quantity) == ("STOP_LOSS_LIMIT", -1, pytest.approx(0.06))
    await rig.started()
    assert len(rig.desk.placed) == 4
    await rig.assert_reconciled()
