"""An OCO pair whose take-profit leg fills in part: the exchange expires the stop at that first fill, so the
rest of the position would rest with no stop. The daemon cancels the take-profit's rest and sends a new
pair at the same levels for what is left, once, even across a crash between the two steps."""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.engine.execution.live import LiveBroker
from mastertrade.engine.execution.live_oco import REPROTECT, successor_ids
from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.orders import OrderRequest, OrderType, Side
from tests.fakes.exchange_trading import DeskOrder
from tests.trading.live_rig import BTC, Rig, buy


@pytest.fixture
def desk_options() -> dict[str, Any]:
    return {"hang_s": 2}


async def _bracketed(rig: Rig) -> tuple[LiveBroker, int, DeskOrder, DeskOrder]:
    """A filled entry of 0.1 BTC at 40,000 whose stop (38,000) and take-profit (44,000) rest as one list."""
    broker = await rig.started()
    entry = await broker.submit(
        buy(0.1, stop_loss=0.05, take_profit=0.1, reference_price=40_000.0), placed_ts=now_ms()
    )
    assert entry.state == "filled" and entry.id is not None
    [stop] = [o for o in rig.desk.placed if o.type == "STOP_LOSS_LIMIT"]
    [take] = [o for o in rig.desk.placed if o.type == "LIMIT_MAKER"]
    return broker, entry.id, stop, take


async def _exits(rig: Rig, entry_id: int) -> list[Any]:
    return sorted(
        (row for row in await rig.journal.orders(book="live") if row.parent_id == entry_id),
        key=lambda row: row.id,
    )


async def test_a_partly_filled_take_profit_is_replaced_by_a_new_pair_for_the_rest(rig: Rig) -> None:
    broker, entry_id, stop, take = await _bracketed(rig)
    rig.desk.fill_part(take.client_order_id, 0.04)
    assert (take.status, stop.status) == ("PARTIALLY_FILLED", "EXPIRED")  # 0.06 BTC without a stop

    outcome = await broker.poll()
    assert [fill.amount for fill in outcome.fills] == pytest.approx([0.04])
    old_stop, old_take, new_stop, new_take = await _exits(rig, entry_id)
    assert (old_stop.state, old_stop.filled) == ("cancelled", 0.0)
    assert (old_take.state, old_take.reason) == ("cancelled", REPROTECT)
    assert old_take.filled == pytest.approx(0.04)
    assert (new_stop.state, new_take.state) == ("open", "open")
    assert (new_stop.client_order_id, new_take.client_order_id) == successor_ids(old_take)
    assert new_stop.amount == new_take.amount == pytest.approx(0.06)
    assert (new_stop.stop_price, new_stop.price, new_take.price) == (
        old_stop.stop_price,
        old_stop.price,
        old_take.price,
    )
    desk_stop, desk_take = rig.desk.placed[-2:]
    assert (desk_stop.type, desk_take.type) == ("STOP_LOSS_LIMIT", "LIMIT_MAKER")
    assert desk_stop.list_id == desk_take.list_id != stop.list_id
    assert desk_stop.quantity == desk_take.quantity == pytest.approx(0.06)
    assert rig.desk.locked["BTC"] == pytest.approx(0.06)  # the rest is locked by the new list alone
    await rig.assert_reconciled()

    rig.desk.set_price(BTC, 37_900.0)  # the new stop protects the rest
    await broker.poll()
    *_, new_stop, new_take = await _exits(rig, entry_id)
    assert (new_stop.state, new_take.state) == ("filled", "cancelled")
    assert (await broker.ledger()).held(BTC) == pytest.approx(0.0, abs=1e-12)
    assert len(rig.desk.placed) == 5  # the entry, the first pair, the new pair: each once
    await rig.assert_reconciled()


async def test_a_manual_oco_pair_is_re_protected_the_same_way(rig: Rig) -> None:
    broker = await rig.started()
    await broker.submit(buy(0.1), placed_ts=now_ms())
    stop_row, take_row = await broker.submit_oco(
        OrderRequest(BTC, Side.SELL, OrderType.STOP, amount=0.1, stop_price=38_000.0, role="stop_loss"),
        OrderRequest(BTC, Side.SELL, OrderType.LIMIT, amount=0.1, price=44_000.0, role="take_profit"),
        placed_ts=now_ms(),
    )
    rig.desk.fill_part(take_row.client_order_id, 0.03)
    await broker.poll()
    new_stop = await rig.journal.get(client_order_id=successor_ids(take_row)[0])
    assert (new_stop.state, new_stop.parent_id) == ("open", None)
    assert new_stop.amount == pytest.approx(0.07)
    await rig.assert_reconciled()


async def test_while_the_price_is_at_the_take_profit_its_rest_keeps_resting(rig: Rig) -> None:
    broker, entry_id, _, take = await _bracketed(rig)
    rig.desk.fill_part(take.client_order_id, 0.04)
    broker._marks[BTC] = 44_000.0  # the daemon's last price: the rest is being bought
    await broker.poll()
    assert [row.state for row in await _exits(rig, entry_id)] == ["cancelled", "partially_filled"]
    assert take.status == "PARTIALLY_FILLED" and len(rig.desk.placed) == 3

    broker._marks[BTC] = 43_000.0  # the price left it: now the rest gets its stop back
    await broker.poll()
    assert [row.state for row in await _exits(rig, entry_id)] == ["cancelled", "cancelled", "open", "open"]


async def test_a_crash_between_the_cancel_and_the_new_pair_sends_the_pair_once_at_the_next_start(
    rig: Rig,
) -> None:
    broker, entry_id, _, take = await _bracketed(rig)
    rig.desk.fill_part(take.client_order_id, 0.04)
    old_take = [row for row in await _exits(rig, entry_id) if row.role == "take_profit"][0]
    assert old_take.id is not None
    await broker.cancel(old_take.id, REPROTECT)  # re-protection's first step; then kill -9
    await broker.close()

    restarted = await rig.started()
    states = [row.state for row in await _exits(rig, entry_id)]
    assert states == ["cancelled", "cancelled", "open", "open"]
    await restarted.poll()
    await rig.started()
    assert len(rig.desk.placed) == 5  # the new pair went out once
    await rig.assert_reconciled()


async def test_a_new_pair_the_exchange_refuses_is_an_alert_naming_the_unprotected_rest(rig: Rig) -> None:
    broker, entry_id, _, take = await _bracketed(rig)
    rig.desk.fill_part(take.client_order_id, 0.04)
    rig.desk.set_price(BTC, 37_500.0)  # below the stop's level: a new stop there is refused
    await broker.poll()
    *_, new_stop, new_take = await _exits(rig, entry_id)
    assert (new_stop.state, new_take.state) == ("rejected", "rejected")
    assert any("0.06 BTC/USDT" in error and "has no stop" in error for error in rig.errors), rig.errors
    assert (await broker.ledger()).held(BTC) == pytest.approx(0.06)
    await rig.assert_reconciled()
