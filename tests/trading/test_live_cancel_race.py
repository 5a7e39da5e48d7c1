"""A cancel racing the order it cancels: asked while the exchange does not know the order yet (its request
is still on the way after the answer was lost), the cancel is kept with the order, and carried out when
the order turns up, whenever that is: at the next poll, after it was declared never received, or after a
restart. Without it the order would rest at the exchange, and could fill, after the trader cancelled it."""

from __future__ import annotations

from datetime import timedelta

from mastertrade.db.models.trading import OrderRecord
from mastertrade.engine.execution.live import LiveBroker
from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.orders import OrderState, OrderType
from tests.trading.live_rig import BTC, Rig, buy


async def _unknown_then_cancelled(rig: Rig) -> tuple[LiveBroker, OrderRecord]:
    broker = await rig.started()
    rig.desk.drop(path="/api/v3/order")  # the request is stuck on the way; the answer is lost
    row = await broker.submit(buy(0.05, type=OrderType.LIMIT, price=39_000.0), placed_ts=now_ms())
    assert row.state == OrderState.UNKNOWN and row.id is not None
    asked = await broker.cancel(row.id)
    assert asked.state == OrderState.UNKNOWN
    assert "cancel asked" in (asked.reason or "") and "cancelled by hand" in (asked.reason or "")
    return broker, await rig.journal.get(row.id)


def _arrives(rig: Rig, client_order_id: str) -> None:
    rig.desk.accept(BTC, "BUY", "LIMIT", 0.05, 39_000.0, client_order_id)


async def test_a_cancel_asked_before_the_order_reached_the_exchange_is_carried_out_when_it_does(
    rig: Rig,
) -> None:
    broker, row = await _unknown_then_cancelled(rig)
    _arrives(rig, row.client_order_id)
    await broker.poll()
    done = await rig.journal.get(row.id)
    assert done.state == OrderState.CANCELLED and done.reason == "cancelled by hand"
    assert [o.status for o in rig.desk.orders_for(row.client_order_id)] == ["CANCELED"]
    await rig.assert_reconciled()


async def test_the_cancel_survives_the_order_being_declared_lost_and_a_restart(rig: Rig) -> None:
    broker, row = await _unknown_then_cancelled(rig)
    rig.clock.offset = timedelta(seconds=broker.arrival_window_s + 1)
    await broker.poll()
    row = await rig.journal.get(row.id)
    assert row.state == OrderState.REJECTED and "never reached" in (row.reason or "")
    _arrives(rig, row.client_order_id)  # a proxy held it; the daemon is down when it arrives
    await rig.started()
    done = await rig.journal.get(row.id)
    assert done.state == OrderState.CANCELLED, done.reason
    assert [o.status for o in rig.desk.orders_for(row.client_order_id)] == ["CANCELED"]
    await rig.assert_reconciled()


async def test_an_order_that_filled_before_the_cancel_could_reach_it_says_so(rig: Rig) -> None:
    broker, row = await _unknown_then_cancelled(rig)
    rig.desk.accept(BTC, "BUY", "MARKET", 0.05, None, row.client_order_id)
    await broker.poll()
    done = await rig.journal.get(row.id)
    assert done.state == OrderState.FILLED
    assert "cancel" in (done.reason or "") and "filled" in (done.reason or "")
    await rig.assert_reconciled()


async def test_a_cancel_asked_once_the_order_could_no_longer_arrive_is_kept_all_the_same(rig: Rig) -> None:
    """Asked when the arrival window has passed, the cancel's lookup declares the order never received;
    should the exchange have it after all, it is cancelled when it turns up, not left resting."""
    broker = await rig.started()
    rig.desk.drop(path="/api/v3/order")
    row = await broker.submit(buy(0.05, type=OrderType.LIMIT, price=39_000.0), placed_ts=now_ms())
    rig.clock.offset = timedelta(seconds=broker.arrival_window_s + 1)
    assert row.id is not None
    asked = await broker.cancel(row.id)
    assert asked.state == OrderState.REJECTED and "cancel asked" in (asked.reason or "")
    _arrives(rig, row.client_order_id)
    await broker.poll()
    assert (await rig.journal.get(row.id)).state == OrderState.CANCELLED
    assert [o.status for o in rig.desk.orders_for(row.client_order_id)] == ["CANCELED"]
    await rig.assert_reconciled()
