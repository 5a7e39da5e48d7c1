"""An OCO list whose create answer was lost, one leg found at the exchange and the other never shown.

An exchange books both legs of a list at once, so the missing leg reached it too: before, it was
declared "never reached the exchange" once its arrival window was over (a leg that expired at its
sibling's fill, or one resting unseen, journaled as refused), and a leg answered as rate-limited was
looked up at every poll. Now it is settled as the exchange says (its list names its order id; its
sibling's fill expired it), and one the exchange cannot tell about is marked after a while, said once,
and shown with its position, instead of being looked up forever (``execution/lost_legs.py``).

The venue is the quirky exchange (``tests/fakes/quirky_exchange.py``), whose ``archive`` forgets an
order (or a list) as a venue that archives ended orders does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from mastertrade.engine import events
from mastertrade.engine.execution import live_oco, lost_legs
from mastertrade.engine.execution.live import LiveBroker
from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.orders import OrderRequest, OrderState, OrderType, Side
from tests.fakes.exchange_trading import DeskOrder
from tests.fakes.quirky_exchange import QuirkyExchange
from tests.trading.live_rig import BTC, Rig, buy, listen, open_desk


@pytest.fixture
def desk() -> Iterator[QuirkyExchange]:
    yield from open_desk(QuirkyExchange)


async def _pair_with_lost_answer(rig: Rig, broker: LiveBroker, meanwhile: Any) -> tuple[int, int]:
    """A stop (38,000) and a take-profit (44,000) for 0.1 BTC sent as one list whose answer never comes
    (the request hangs past the client's timeout); ``meanwhile(stop, take)`` runs at the exchange after
    the list is booked and before the broker looks its legs up. Returns the legs' order ids."""
    entry = await broker.submit(buy(0.1), placed_ts=now_ms())
    assert entry.state == OrderState.FILLED
    rig.desk.after_accept("hang")
    sending = asyncio.create_task(
        broker.submit_oco(
            OrderRequest(BTC, Side.SELL, OrderType.STOP, amount=0.1, stop_price=38_000.0, role="stop_loss"),
            OrderRequest(BTC, Side.SELL, OrderType.LIMIT, amount=0.1, price=44_000.0, role="take_profit"),
            placed_ts=now_ms(),
        )
    )
    for _ in range(500):
        legs = [o for o in rig.desk.placed if o.list_id >= 0]
        if len(legs) == 2:
            break
        await asyncio.sleep(0.01)
    [stop] = [o for o in legs if o.type == "STOP_LOSS_LIMIT"]
    [take] = [o for o in legs if o.type == "LIMIT_MAKER"]
    meanwhile(stop, take)
    stop_row, take_row = await sending
    assert stop_row.id is not None and take_row.id is not None
    return stop_row.id, take_row.id


def _lookups(desk: QuirkyExchange, client_order_id: str) -> int:
    """How often the exchange was asked for the order by its client id."""
    return sum(
        1 for r in desk.requests_to("/api/v3/order") if r.params.get("origClientOrderId") == client_order_id
    )


async def test_a_leg_archived_after_its_sibling_filled_is_settled_expired(rig: Rig) -> None:
    broker = await rig.started()
    venue = rig.desk
    assert isinstance(venue, QuirkyExchange)

    def take_fills(stop: DeskOrder, take: DeskOrder) -> None:
        venue.set_price(BTC, 44_000.0)  # the take-profit fills; the exchange expires the stop...
        venue.archive(stop.client_order_id)  # ...and no longer shows it (ended unfilled)

    stop_id, take_id = await _pair_with_lost_answer(rig, broker, take_fills)
    stop, take = await rig.journal.get(stop_id), await rig.journal.get(take_id)
    assert (stop.state, take.state) == (OrderState.UNKNOWN, OrderState.FILLED)

    rig.clock.offset = timedelta(seconds=broker.arrival_window_s + 1)  # its request can no longer arrive
    await broker.poll()

    stop = await rig.journal.get(stop_id)
    assert stop.state == OrderState.CANCELLED, stop.reason  # before: rejected, "never reached the exchange"
    assert stop.reason is not None and stop.reason.startswith("expired at the exchange at the first fill")
    assert stop.exchange_order_id == str(venue.orders_for(stop.client_order_id)[0].order_id)  # from its list
    lists = [r for r in venue.requests_to("/api/v3/orderList") if r.method == "GET"]
    assert [r.params.get("origClientOrderId") for r in lists] == [live_oco.list_client_id(stop)]
    assert (await broker.ledger()).held(BTC) == pytest.approx(0.0, abs=1e-12)
    await rig.assert_reconciled()


async def test_a_leg_the_exchange_cannot_tell_about_is_marked_said_once_not_polled(rig: Rig) -> None:
    broker = await rig.started()
    seen = listen(broker)
    venue = rig.desk
    assert isinstance(venue, QuirkyExchange)

    def stop_unseen(stop: DeskOrder, take: DeskOrder) -> None:
        venue.archive(stop.client_order_id)  # the exchange shows neither the stop...
        venue.archive_list(venue.lists[stop.list_id][0])  # ...nor its list

    stop_id, take_id = await _pair_with_lost_answer(rig, broker, stop_unseen)
    stop = await rig.journal.get(stop_id)
    assert (stop.state, (await rig.journal.get(take_id)).state) == (OrderState.UNKNOWN, OrderState.OPEN)

    rig.clock.offset = timedelta(seconds=broker.arrival_window_s + 1)
    await broker.poll()
    stop = await rig.journal.get(stop_id)
    # before: rejected as "never reached the exchange" while it may rest there, holding the coins
    assert stop.state == OrderState.UNKNOWN, stop.reason
    assert not lost_legs.marked(stop) and broker.unprotected() == {}

    rig.clock.offset += timedelta(seconds=lost_legs.SETTLE_WITHIN_S)
    await broker.poll()
    stop = await rig.journal.get(stop_id)
    assert lost_legs.marked(stop), stop.reason
    assert "check it on the exchange" in (stop.reason or "")
    said = [e for e in seen if isinstance(e, events.RiskBreached) and e.limit == lost_legs.LIMIT]
    assert len(said) == 1 and said[0].severity == "critical" and said[0].symbol == BTC
    assert f"order {stop_id}" in said[0].message
    assert "position is unclear" in broker.unprotected()[BTC]

    asked = _lookups(venue, stop.client_order_id)
    for _ in range(3):
        await broker.poll()
    assert _lookups(venue, stop.client_order_id) == asked  # no longer looked up at polls
    assert len([e for e in seen if isinstance(e, events.RiskBreached) and e.limit == lost_legs.LIMIT]) == 1

    again = rig.broker()  # a start looks it up once more, and shows it without saying it again
    seen_again = listen(again)
    await again.start()
    assert lost_legs.marked(await rig.journal.get(stop_id))
    assert "position is unclear" in again.unprotected()[BTC]
    assert not [e for e in seen_again if isinstance(e, events.RiskBreached)]

    venue.archived.clear()  # the exchange shows it again: the next start settles it
    final = await rig.started()
    stop = await rig.journal.get(stop_id)
    assert stop.state == OrderState.OPEN and final.unprotected() == {}
    await rig.assert_reconciled()


async def test_a_leg_of_a_list_answered_as_rate_limited_is_settled_not_looked_up_at_every_poll(
    rig: Rig,
) -> None:
    """The list's create is answered 429 although the exchange booked it, and for a second the exchange
    shows neither leg (``unknown_for_s``); meanwhile the take-profit fills and the expired stop is
    archived. Before, the stop stayed unknown, looked up at every poll (its list was not sent again, its
    sibling being found), for as long as it was young enough to be sent again."""
    broker = await rig.started()
    venue = rig.desk
    assert isinstance(venue, QuirkyExchange)
    entry = await broker.submit(buy(0.1), placed_ts=now_ms())
    assert entry.state == OrderState.FILLED
    venue.quirks.unknown_for_s = 1.0
    venue.after_accept("429")
    stop, take = await broker.submit_oco(
        OrderRequest(BTC, Side.SELL, OrderType.STOP, amount=0.1, stop_price=38_000.0, role="stop_loss"),
        OrderRequest(BTC, Side.SELL, OrderType.LIMIT, amount=0.1, price=44_000.0, role="take_profit"),
        placed_ts=now_ms(),
    )
    assert stop.id is not None and take.id is not None
    assert [stop.state, take.state] == [OrderState.UNKNOWN] * 2
    venue.set_price(BTC, 44_000.0)  # the take-profit fills, the stop expires...
    venue.archive(stop.client_order_id)  # ...and is archived
    for _ in range(300):  # until the exchange shows the take-profit (its window still open)
        await broker.poll()
        if (await rig.journal.get(take.id)).state == OrderState.FILLED:
            break
        await asyncio.sleep(0.01)
    assert (await rig.journal.get(take.id)).state == OrderState.FILLED

    rig.clock.offset = timedelta(seconds=broker.arrival_window_s + 1)
    await broker.poll()
    settled = await rig.journal.get(stop.id)
    assert settled.state == OrderState.CANCELLED, (settled.state, settled.reason)  # before: unknown
    assert (settled.reason or "").startswith("expired at the exchange at the first fill")
    asked = _lookups(venue, stop.client_order_id)
    await broker.poll()
    assert _lookups(venue, stop.client_order_id) == asked
    posts = [r for r in venue.requests_to("/api/v3/orderList/oco") if r.method == "POST"]
    assert len(posts) == 1  # never sent again
    await rig.assert_reconciled()
