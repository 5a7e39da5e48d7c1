"""Protective exits that rest at the exchange: a live stop order is the venue's native stop-limit, and a
bracketed entry's exit is sent once the entry fills. The fake exchange triggers stops on its own price,
so a stop placed by a daemon that then stopped still fires, and the next start books its fill."""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade import errors
from mastertrade.engine.execution.orders import OrderRequest, OrderType, Side
from mastertrade.engine.market.timeframes import now_ms
from tests.trading.live_rig import BTC, Rig, buy


@pytest.fixture
def desk_options() -> dict[str, Any]:
    return {"hang_s": 2}


async def test_a_stop_loss_rests_at_the_exchange_and_fires_while_the_daemon_is_down(rig: Rig) -> None:
    broker = await rig.started()
    entry = await broker.submit(buy(0.1, stop_loss=0.05, reference_price=40_000.0), placed_ts=now_ms())
    assert entry.state == "filled"
    [stop] = [o for o in rig.desk.placed if o.type == "STOP_LOSS_LIMIT"]
    assert stop.side == "SELL" and stop.quantity == pytest.approx(0.1)
    assert stop.stop_price == pytest.approx(38_000.0) and stop.price == pytest.approx(37_620.0)
    [child] = [row for row in await rig.journal.orders(book="live") if row.parent_id == entry.id]
    assert child.state == "open" and child.role == "stop_loss" and child.exchange_order_id
    await broker.close()  # the daemon stops; the stop stays at the exchange

    rig.desk.set_price(BTC, 39_000.0)  # not yet
    assert stop.status == "NEW"
    rig.desk.set_price(BTC, 37_900.0)  # through the stop: it triggers and fills there, nobody watching
    assert stop.status == "FILLED"

    restarted = await rig.started()
    booked = await rig.journal.get(child.id)
    assert booked.state == "filled" and booked.filled == pytest.approx(0.1)
    [fill] = await rig.journal.fills(order_id=child.id)
    assert fill.price == pytest.approx(37_900.0)
    ledger = await restarted.ledger()
    assert ledger.held(BTC) == pytest.approx(0.0, abs=1e-12)
    assert ledger.balance("USDT") == pytest.approx(rig.desk.balance("USDT"), abs=1e-6)
    await rig.assert_reconciled()


async def test_an_entry_that_filled_before_its_stop_was_sent_gets_it_at_the_next_start(rig: Rig) -> None:
    from mastertrade.engine.execution.journal import NewFill
    from mastertrade.engine.execution.orders import OrderState

    await rig.started()
    # The daemon journaled the bracketed entry, sent it, booked its fill, and died before the stop left.
    entry, [child] = await rig.journal.create_order(
        "live", "live", buy(0.1, stop_loss=0.05, reference_price=40_000.0), placed_ts=now_ms()
    )
    rig.desk.accept(BTC, "BUY", "MARKET", 0.1, None, entry.client_order_id)
    [desk_entry] = rig.desk.orders_for(entry.client_order_id)
    trade = desk_entry.trades[0]
    fill = NewFill(str(trade["id"]), 0.1, 40_000.0, float(trade["commission"]), "USDT", now_ms())
    await rig.journal.transition(entry.id, OrderState.SENT, sent=True)
    await rig.journal.add_fills(
        entry.id, [fill], OrderState.FILLED, exchange_order_id=str(desk_entry.order_id)
    )
    assert (await rig.journal.get(child.id)).state == "intent"

    restarted = await rig.started()
    [stop] = [o for o in rig.desk.placed if o.type == "STOP_LOSS_LIMIT"]
    assert stop.client_order_id == child.client_order_id and stop.quantity == pytest.approx(0.1)
    assert (await rig.journal.get(child.id)).state == "open"
    assert (await restarted.ledger()).held(BTC) == pytest.approx(0.1)
    await rig.assert_reconciled()


async def test_a_plain_live_stop_order_is_native(rig: Rig) -> None:
    broker = await rig.started()
    await broker.submit(buy(0.2), placed_ts=now_ms())
    stop = await broker.submit(
        OrderRequest(BTC, Side.SELL, OrderType.STOP, amount=0.2, stop_price=39_000.0), placed_ts=now_ms()
    )
    assert stop.state == "open" and stop.stop_price == 39_000.0 and stop.price == pytest.approx(38_610.0)
    rig.desk.set_price(BTC, 38_800.0)
    await broker.poll()
    assert (await rig.journal.get(stop.id)).state == "filled"
    assert (await broker.ledger()).held(BTC) == pytest.approx(0.0, abs=1e-12)
    await rig.assert_reconciled()


async def test_a_take_profit_rests_as_a_limit_sell(rig: Rig) -> None:
    broker = await rig.started()
    entry = await broker.submit(buy(0.1, take_profit=0.1, reference_price=40_000.0), placed_ts=now_ms())
    [take] = [row for row in await rig.journal.orders(book="live") if row.parent_id == entry.id]
    assert take.state == "open" and take.price == pytest.approx(44_000.0)
    rig.desk.set_price(BTC, 44_500.0)
    await broker.poll()
    assert (await rig.journal.get(take.id)).state == "filled"
    await rig.assert_reconciled()


async def test_both_exits_live_are_refused_before_anything_is_written(rig: Rig) -> None:
    broker = await rig.started()
    with pytest.raises(errors.UserInputError, match="one protective exit"):
        await broker.submit(
            buy(0.1, stop_loss=0.05, take_profit=0.1, reference_price=40_000.0), placed_ts=now_ms()
        )
    assert await rig.journal.orders(book="live") == [] and rig.desk.placed == []
