"""An OCO leg that had rested at the exchange, marked unsettled (``lost_legs``), that later turns up.

While the exchange showed neither the leg by its client id nor its list, the leg was marked and its
position's protection shown as unclear (``mt positions``). Before, when the leg turned up again, still
resting, the note stayed in memory until the daemon's next start: ``mt positions`` went on saying the
protection was unclear, and the leg's reason in ``mt orders`` still said it was not found. Now the note
goes as soon as the leg is found (``archived_orders.unmark``), and its reason says it was found again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest

from mastertrade.engine.execution import archived_orders, lost_legs, unclear_lookups
from tests.fakes.quirky_exchange import QuirkyExchange
from tests.trading.live_rig import BTC, Rig, bracketed, open_desk


@pytest.fixture
def desk() -> Iterator[QuirkyExchange]:
    yield from open_desk(QuirkyExchange)


async def test_a_leg_marked_unsettled_that_turns_up_resting_clears_its_note(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    broker, published, stop, take = await bracketed(rig)
    venue = rig.desk
    assert isinstance(venue, QuirkyExchange)
    list_id = venue.lists[stop.list_id][0]
    venue.archive(take.client_order_id)  # the exchange shows neither the leg nor its list for a while
    venue.archive_list(list_id)
    rig.clock.offset = timedelta(hours=1)
    await broker.poll()
    row = await rig.journal.get(client_order_id=take.client_order_id)
    assert row.state == "open" and (row.reason or "").startswith(lost_legs.UNSETTLED)
    assert "position is unclear" in broker.unprotected()[BTC]

    venue.archived -= {take.client_order_id, list_id}  # it turns up, still resting
    rig.clock.offset += timedelta(seconds=unclear_lookups.FIRST_S)  # found at its next look
    caplog.clear()
    with caplog.at_level(logging.INFO):
        await broker.poll()
        await broker.poll()
    assert broker.unprotected() == {}  # before: unclear until the next start
    row = await rig.journal.get(client_order_id=take.client_order_id)
    assert row.state == "open" and row.reason == archived_orders.FOUND  # before: still "not found ..."
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert (await rig.started()).unprotected() == {}
    await rig.assert_reconciled()
