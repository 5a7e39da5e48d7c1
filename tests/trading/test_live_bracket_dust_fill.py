"""A bracketed live buy that filled too little to be protected at the exchange.

A resting limit buy with a stop-loss and a take-profit fills one lot step, then is cancelled. Binance
took the fee from the coins bought, so what the buy brought in is under one lot step: no exit can sell
it. Its exits were sized with ccxt's ``amount_to_precision``, which raises for an amount that truncates
to nothing, and that error (a raw ccxt exception) escaped the cancel, after the fill was booked, and
then every later start of the live broker, which tried to arm those exits again. Now the exits are
cancelled naming why (what the entry brought in is under the lot step), the cancel answers, and a
start goes through.
"""

from __future__ import annotations

import pytest

from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.orders import OrderState, OrderType
from tests.trading.live_rig import BTC, Rig, buy


@pytest.mark.parametrize("desk_options", [{"fee_asset": "BTC"}], indirect=True)
async def test_exits_of_an_entry_that_brought_in_less_than_a_lot_step_are_cancelled_saying_why(
    rig: Rig,
) -> None:
    broker = await rig.started()
    entry = await broker.submit(
        buy(
            0.1,
            type=OrderType.LIMIT,
            price=39_000.0,
            reference_price=39_000.0,
            stop_loss=0.05,
            take_profit=0.1,
        ),
        placed_ts=now_ms(),
    )
    assert entry.state == OrderState.OPEN
    rig.desk.fill_part(entry.client_order_id, 0.00001)
    assert entry.id is not None
    cancelled = await broker.cancel(entry.id)
    assert cancelled.state == OrderState.CANCELLED and cancelled.filled == pytest.approx(0.00001)
    exits = [row for row in await rig.journal.orders(book="live") if row.parent_id == entry.id]
    assert len(exits) == 2
    for row in exits:
        assert row.state == OrderState.CANCELLED
        assert row.reason is not None and "lot step" in row.reason and "0.00001" in row.reason
    assert [o for o in rig.desk.placed if o.client_order_id != entry.client_order_id] == []
    assert (await broker.ledger()).held(BTC) == pytest.approx(rig.desk.balance("BTC"), abs=1e-12)
    await broker.poll()
    await rig.started()  # a start has nothing left to arm
    await rig.assert_reconciled()
