"""A stop the exchange cannot confirm is asked again after growing intervals, not at every poll.

A lone stop the exchange shows neither by its client order id nor by its order id (Binance archives an
order that ended without trading), and whose trades do not tell, is marked and said once
(``archived_orders``); a leg of an OCO list the exchange had shown resting and now shows neither by its
client id nor through its list is marked the same way (``lost_legs``). Each poll then asked for it again
as long as it did not turn up: three requests a poll for the stop (by client id, by order id, its
trades), two for the leg, 2,160 requests an hour at the default 5 s poll for one stop. Now it is asked
after growing intervals (``unclear_lookups``), started over at once when the price reaches its level
(where it may have filled) or its journal row changes: a fill is still booked, the order still turns up,
and it is still said once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from mastertrade.db.types import utcnow
from mastertrade.engine.candle import Bar, Candle
from mastertrade.engine.execution import archived_orders, lost_legs, unclear_lookups
from mastertrade.engine.execution.live import LiveBroker
from mastertrade.engine.market.timeframes import now_ms
from tests.fakes.quirky_exchange import QuirkyExchange
from tests.trading.live_rig import BTC, Rig, bracketed, buy, listen, open_desk
from tests.trading.test_lone_stop_archived import LATER

POLL_S = 5.0
"""The default ``[execution] poll_interval_s``."""


@pytest.fixture
def desk() -> Iterator[QuirkyExchange]:
    yield from open_desk(QuirkyExchange)


def _steady(rig: Rig, broker: LiveBroker) -> None:
    """The schedule's clock moves only with the test's offset (not also with the time the test takes),
    so each look falls on a known poll."""
    start = utcnow()
    broker.unclear.clock = lambda: start + rig.clock.offset


def _venue(rig: Rig) -> QuirkyExchange:
    assert isinstance(rig.desk, QuirkyExchange)
    return rig.desk


async def _unseen_stop(rig: Rig) -> tuple[LiveBroker, list[Any], str]:
    """A filled buy of 0.1 BTC at 40,000 whose lone stop (38,000) the exchange archived: the first poll
    after its arrival window marks it (three requests) and says it once."""
    broker = await rig.started()
    _steady(rig, broker)
    published = listen(broker)
    entry = await broker.submit(buy(0.1, stop_loss=0.05, reference_price=40_000.0), placed_ts=now_ms())
    assert entry.state == "filled"
    [stop] = [o for o in rig.desk.placed if o.type == "STOP_LOSS_LIMIT"]
    _venue(rig).archive(stop.client_order_id)
    rig.clock.offset = LATER
    assert await _asked(rig, broker) == 3
    row = await rig.journal.get(client_order_id=stop.client_order_id)
    assert row.state == "open" and (row.reason or "").startswith(archived_orders.UNSEEN)
    return broker, published, stop.client_order_id


async def _asked(rig: Rig, broker: LiveBroker) -> int:
    """The requests one poll sends to the exchange."""
    before = len(rig.desk.requests)
    await broker.poll()
    return len(rig.desk.requests) - before


async def _an_hour_of_polls(rig: Rig, broker: LiveBroker) -> list[int]:
    """The requests of each poll over the next hour, one poll every ``POLL_S``."""
    counts = []
    for _ in range(int(3600 / POLL_S)):
        rig.clock.offset += timedelta(seconds=POLL_S)
        counts.append(await _asked(rig, broker))
    return counts


def _price(broker: LiveBroker, low: float, high: float, close: float) -> Bar:
    return Bar(Candle(now_ms(), high, high, low, close), closed=False)


async def test_an_unseen_stop_is_asked_after_growing_intervals_and_said_once(rig: Rig) -> None:
    broker, published, _ = await _unseen_stop(rig)

    counts = await _an_hour_of_polls(rig, broker)

    # before: 3 requests at each of the 720 polls (2,160); now at 30 s, then 60, 120, ... 960
    looks = [index for index, count in enumerate(counts) if count]
    assert sum(counts) == 3 * len(looks) == 18, counts
    gaps = [(b - a) * POLL_S for a, b in zip([-1, *looks], looks, strict=False)]
    assert gaps == [30.0, 60.0, 120.0, 240.0, 480.0, 960.0]
    # never given up: asked again every MOST_S (half an hour) from then on
    since = (len(counts) - 1 - looks[-1]) * POLL_S
    for wait in (unclear_lookups.MOST_S, unclear_lookups.MOST_S):
        rig.clock.offset += timedelta(seconds=wait - since - 1)
        assert await _asked(rig, broker) == 0
        rig.clock.offset += timedelta(seconds=1)
        assert await _asked(rig, broker) == 3
        since = 0.0
    assert len([e for e in published if getattr(e, "limit", None) == lost_legs.LIMIT]) == 1  # said once


async def test_a_price_at_the_stop_asks_at_the_next_poll_and_its_fill_is_booked(rig: Rig) -> None:
    broker, _, cid = await _unseen_stop(rig)
    rig.clock.offset += timedelta(seconds=POLL_S)
    assert await _asked(rig, broker) == 0  # waiting for its next look
    await broker.on_bar(BTC, _price(broker, 39_000.0, 40_100.0, 39_500.0))  # short of the stop
    assert await _asked(rig, broker) == 0

    rig.desk.set_price(BTC, 37_800.0)  # the stop triggers and fills at the exchange (its limit 37,620)
    await broker.on_bar(BTC, _price(broker, 37_800.0, 39_500.0, 37_800.0))

    assert await _asked(rig, broker) > 0  # at once, not at its next look
    row = await rig.journal.get(client_order_id=cid)
    assert row.state == "filled" and row.filled == pytest.approx(0.1)
    assert (await broker.ledger()).held(BTC) == pytest.approx(0.0, abs=1e-12)
    assert broker.unclear.waiting() == {}


async def test_a_bar_that_stays_past_the_stop_does_not_ask_at_every_poll(rig: Rig) -> None:
    broker, _, cid = await _unseen_stop(rig)
    _venue(rig).cancel_by_hand(cid)  # cancelled, archived: nothing fills, nothing tells
    await broker.on_bar(BTC, _price(broker, 37_900.0, 40_000.0, 37_950.0))
    first = await _asked(rig, broker)
    assert first == 3  # the price reached the stop: asked at once
    for _ in range(3):  # the same bar, still past the stop: not news
        await broker.on_bar(BTC, _price(broker, 37_800.0, 40_000.0, 37_850.0))
        assert await _asked(rig, broker) == 0


async def test_an_unseen_stop_that_turns_up_is_found_at_its_next_look_and_the_note_goes(rig: Rig) -> None:
    broker, _, cid = await _unseen_stop(rig)
    assert "position is unclear" in broker.unprotected()[BTC]
    _venue(rig).archived.discard(cid)  # it turns up, still resting
    rig.clock.offset += timedelta(seconds=unclear_lookups.FIRST_S)

    await broker.poll()

    row = await rig.journal.get(client_order_id=cid)
    assert row.state == "open" and row.reason == archived_orders.FOUND
    assert broker.unprotected() == {} and broker.unclear.waiting() == {}
    assert await _asked(rig, broker) == 1  # an ordinary resting order again: one look a poll


async def test_a_restart_asks_at_once(rig: Rig) -> None:
    broker, _, _ = await _unseen_stop(rig)
    rig.clock.offset += timedelta(seconds=POLL_S)
    assert await _asked(rig, broker) == 0
    restarted = rig.broker()
    await restarted.start()
    assert await _asked(rig, restarted) == 3  # this run's schedule is new


async def test_an_unsettled_oco_leg_is_asked_after_growing_intervals(rig: Rig) -> None:
    broker, published, stop, take = await bracketed(rig)
    _steady(rig, broker)
    venue = _venue(rig)
    venue.archive(take.client_order_id)
    venue.archive_list(venue.lists[stop.list_id][0])
    rig.clock.offset = LATER
    assert await _asked(rig, broker) == 3  # the stop (1), the leg by client id and its list (2)
    row = await rig.journal.get(client_order_id=take.client_order_id)
    assert row.state == "open" and (row.reason or "").startswith(lost_legs.UNSETTLED)

    counts = await _an_hour_of_polls(rig, broker)

    # before: 3 at each poll; now the stop's one look a poll, and the leg's two after growing intervals
    assert sum(counts) == len(counts) + 2 * 6, counts
    assert len([e for e in published if getattr(e, "limit", None) == lost_legs.LIMIT]) == 1
