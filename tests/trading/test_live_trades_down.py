"""An order the exchange accepted while its trades cannot be listed (``myTrades`` failing past its
retries): the order is known, so it is neither reported as failed (the trader would place it again) nor
closed without its fills; it stays in flight, and a later poll books its trades once the list answers."""

from __future__ import annotations

import pytest

from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.orders import OrderState, OrderType
from tests.trading.live_rig import BTC, Rig, buy

TRADES = "/api/v3/myTrades"


async def test_an_accepted_order_whose_trades_cannot_be_listed_stays_in_flight(rig: Rig) -> None:
    broker = await rig.started()
    rig.desk.fail(500, times=5, path=TRADES)  # every attempt of the first listing (4 retries)
    row = await broker.submit(buy(0.05), placed_ts=now_ms())
    assert row.exchange_order_id is not None and not row.state.final
    assert row in await rig.journal.in_flight("live")
    assert any("fetch_my_trades" in error for error in rig.errors)  # counted by the errors breaker
    outcome = await broker.poll()
    assert [fill.order_id for fill in outcome.fills] == [row.id]
    done = await rig.journal.get(row.id)
    assert done.state == OrderState.FILLED and done.filled == pytest.approx(0.05)
    assert len(rig.desk.placed) == 1
    assert (await broker.ledger()).held(BTC) == pytest.approx(0.05)
    await rig.assert_reconciled()


async def test_one_order_s_trades_failing_does_not_stop_the_poll_of_the_others(rig: Rig) -> None:
    broker = await rig.started()
    first = await broker.submit(buy(0.01, type=OrderType.LIMIT, price=39_000.0), placed_ts=now_ms())
    second = await broker.submit(buy(0.02, type=OrderType.LIMIT, price=39_000.0), placed_ts=now_ms())
    rig.desk.set_price(BTC, 38_900.0)  # both fill at the exchange
    rig.desk.fail(500, times=5, path=TRADES)  # the first order looked at cannot list its trades
    outcome = await broker.poll()
    assert len(outcome.fills) == 1  # the other order's fill is booked all the same
    await broker.poll()
    for row in (first, second):
        assert (await rig.journal.get(row.id)).state == OrderState.FILLED
    await rig.assert_reconciled()
