"""The live broker against venues that behave as ccxt documents and not as our fake does by default.

Each test turns on one habit of a real venue (``TradingExchange``'s options): an order whose trades are
listed later than its status says it filled, an answer carrying only the order's ids, a fee in the base
asset or in a third currency, a fill in several pieces. Whatever the habit, every fill is booked once,
the journal's orders end in the exchange's state, and the book equals the exchange's balances.
"""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.engine.execution import live
from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.orders import OrderState, OrderType
from tests.trading.live_rig import BTC, Rig, buy


def _trades_of(rig: Rig, client_order_id: str) -> list[dict[str, Any]]:
    [order] = rig.desk.orders_for(client_order_id)
    return order.trades


@pytest.mark.parametrize("desk_options", [{"trade_lag": 2}], indirect=True)
async def test_an_order_filled_before_its_trades_are_listed_waits_for_them(rig: Rig) -> None:
    """Binance's myTrades can lag its order status: "filled" with no trades yet must not end the order
    (it would never be looked at again, and its fill would turn into an anonymous balance adjustment)."""
    broker = await rig.started()
    row = await broker.submit(buy(0.1), placed_ts=now_ms())
    assert row.state != OrderState.FILLED and row.filled == 0.0
    assert row in await rig.journal.in_flight("live")
    assert (await broker.poll()).fills == []  # still hidden: the order waits
    outcome = await broker.poll()
    listed = [str(trade["id"]) for trade in _trades_of(rig, row.client_order_id)]
    assert [fill.trade_id for fill in outcome.fills] == listed
    done = await rig.journal.get(row.id)
    assert done.state == OrderState.FILLED and done.filled == pytest.approx(0.1)
    assert (await broker.ledger()).held(BTC) == pytest.approx(0.1)
    await rig.assert_reconciled()


@pytest.mark.parametrize("desk_options", [{"ack_only": True, "pieces": 3}], indirect=True)
async def test_an_answer_with_only_the_ids_is_completed_by_looking_the_order_up(rig: Rig) -> None:
    broker = await rig.started()
    row = await broker.submit(buy(0.3), placed_ts=now_ms())
    assert row.exchange_order_id is not None and row.state in (OrderState.OPEN, OrderState.FILLED)
    await broker.poll()
    await broker.poll()  # seen twice: stored once
    done = await rig.journal.get(row.id)
    assert done.state == OrderState.FILLED and done.filled == pytest.approx(0.3)
    assert len(await rig.journal.fills(order_id=row.id)) == 3
    await rig.assert_reconciled()


@pytest.mark.parametrize(
    "desk_options", [{"fee_asset": "BNB", "balances": {"USDT": 100_000.0, "BNB": 10.0}}], indirect=True
)
async def test_a_fee_in_a_third_currency_is_taken_from_that_currency(rig: Rig) -> None:
    broker = await rig.started()
    await broker.submit(buy(0.1), placed_ts=now_ms())
    [fill] = await rig.journal.fills(book="live")
    assert fill.fee_asset == "BNB" and fill.fee == pytest.approx(4_000 * 0.001 / 500)
    ledger = await broker.ledger()
    assert ledger.balance("BNB") == pytest.approx(rig.desk.balance("BNB"), abs=1e-9)
    assert ledger.balance("USDT") == pytest.approx(rig.desk.balance("USDT"), abs=1e-7)
    await rig.assert_reconciled()


@pytest.mark.parametrize("desk_options", [{"fee_asset": "BTC"}], indirect=True)
async def test_a_bracket_after_a_fee_paid_in_the_base_asset_sells_what_was_received(rig: Rig) -> None:
    """Binance takes a buy's fee from the coins bought (without BNB): the exits can sell only the rest,
    and exits sized to the gross fill would be refused for want of balance, leaving the position bare."""
    broker = await rig.started()
    entry = await broker.submit(buy(0.1, stop_loss=0.05, reference_price=40_000.0), placed_ts=now_ms())
    assert entry.state == OrderState.FILLED
    [stop] = [row for row in await rig.journal.orders(book="live") if row.parent_id == entry.id]
    assert stop.state == OrderState.OPEN, stop.reason
    assert stop.amount == pytest.approx(0.0999) and stop.amount <= rig.desk.balance("BTC")
    rig.desk.set_price(BTC, 37_900.0)  # the stop fires at the exchange, within its limit
    await broker.poll()
    assert (await rig.journal.get(stop.id)).state == OrderState.FILLED
    await rig.assert_reconciled()


@pytest.mark.parametrize("desk_options", [{"trade_lag": 1}], indirect=True)
async def test_a_cancelled_order_whose_part_fill_is_not_listed_yet_keeps_it(rig: Rig) -> None:
    """A resting order fills in part, then is cancelled before the exchange lists that trade: the order
    is not closed without it; the next poll books the part and closes it cancelled."""
    broker = await rig.started()
    row = await broker.submit(buy(0.1, type=OrderType.LIMIT, price=39_000.0), placed_ts=now_ms())
    assert row.state == OrderState.OPEN
    rig.desk.fill_part(row.client_order_id, 0.04)
    cancelled = await broker.cancel(row.id)
    assert cancelled.state == OrderState.PARTIALLY_FILLED and cancelled.filled == 0.0
    await broker.poll()
    done = await rig.journal.get(row.id)
    assert done.state == OrderState.CANCELLED and done.filled == pytest.approx(0.04)
    assert (await broker.ledger()).held(BTC) == pytest.approx(0.04)
    await rig.assert_reconciled()


@pytest.mark.parametrize("desk_options", [{"trades_only": True}], indirect=True)
async def test_an_order_shown_without_its_executed_amount_gets_its_fills_from_the_trades(rig: Rig) -> None:
    """ccxt reads a missing executed amount as 0: a "closed" order saying it filled 0 is still asked for
    its trades before it is closed, so a venue that reports fills only as trades loses none."""
    broker = await rig.started()
    row = await broker.submit(buy(0.1), placed_ts=now_ms())
    assert row.state == OrderState.FILLED and row.filled == pytest.approx(0.1)
    assert len(await rig.journal.fills(order_id=row.id)) == 1
    await rig.assert_reconciled()


@pytest.mark.parametrize("desk_options", [{"pieces": 1_200}], indirect=True)
async def test_an_order_filled_in_more_trades_than_one_page_books_them_all(rig: Rig) -> None:
    """Binance lists at most 1000 of an order's trades per answer (the most recent unless asked from a
    trade id on): an order filled in more pieces is closed only with every one booked, once."""
    broker = await rig.started()
    row = await broker.submit(buy(0.12), placed_ts=now_ms())
    assert row.state == OrderState.FILLED and row.filled == pytest.approx(0.12)
    fills = await rig.journal.fills(order_id=row.id)
    listed = sorted(str(trade["id"]) for trade in _trades_of(rig, row.client_order_id))
    assert sorted(fill.trade_id for fill in fills) == listed and len(listed) == 1_200
    assert (await broker.ledger()).held(BTC) == pytest.approx(sum(fill.amount for fill in fills))
    assert (await broker.ledger()).held(BTC) == pytest.approx(0.12)
    assert len(rig.desk.requests_to("/api/v3/myTrades")) == 2
    await broker.poll()
    assert len(await rig.journal.fills(order_id=row.id)) == 1_200
    await rig.assert_reconciled()


@pytest.mark.parametrize("desk_options", [{"pieces": 45}], indirect=True)
async def test_a_walk_through_many_pages_goes_on_at_the_next_poll(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A look at an order asks for a bounded number of pages; the next poll carries on from where the
    last one stopped (starting over each time, an order with more trades than that would never close)."""
    monkeypatch.setattr(live, "TRADES_PAGE", 10)
    monkeypatch.setattr(live, "TRADES_PAGES", 2)
    broker = await rig.started()
    row = await broker.submit(buy(0.045), placed_ts=now_ms())
    assert row.state == OrderState.PARTIALLY_FILLED and row.filled == pytest.approx(0.03)
    assert (await broker.ledger()).held(BTC) == pytest.approx(0.03)
    assert len(rig.desk.requests_to("/api/v3/myTrades")) == 3
    outcome = await broker.poll()
    assert len(outcome.fills) == 15
    done = await rig.journal.get(row.id)
    assert done.state == OrderState.FILLED and done.filled == pytest.approx(0.045)
    assert len(await rig.journal.fills(order_id=row.id)) == 45
    await rig.assert_reconciled()
