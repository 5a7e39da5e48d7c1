"""A lone protective stop (no OCO list) cancelled on the exchange's website, then archived by the exchange.

Binance archives an order that ended without trading: asked by its client order id, it answers "order
does not exist". Before, such a stop stayed ``open`` in the journal and was looked up silently at every
poll, forever: the position had no stop and nobody was told. Now it is asked by its order id and its
trades (``execution/archived_orders.py``): where the exchange shows it cancelled, it is placed again under
a new client order id and said once, as any exit cancelled at the exchange; where nothing tells, nothing
is placed on a guess: it is said once, and ``mt positions`` shows the position's protection as unclear
until the stop turns up.

The venue is the quirky exchange (``tests/fakes/quirky_exchange.py``), whose ``archive`` forgets an order
by its client id and by its order id, as Binance does; ``RecentOnly`` forgets it by its client id only,
as a venue whose client id lookup sees recent orders only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from mastertrade.engine import events
from mastertrade.engine.execution import archived_orders, exit_cancels, lost_legs, unclear_lookups
from mastertrade.engine.execution.live import LiveBroker
from mastertrade.engine.market.timeframes import now_ms
from tests.fakes.exchange import Recorded, serve
from tests.fakes.exchange_trading import DeskOrder, TradingExchange
from tests.fakes.quirky_exchange import QuirkyExchange
from tests.trading.live_rig import BTC, DESK, Rig, buy, listen

AT_EXCHANGE = exit_cancels.CANCELLED_AT_EXCHANGE
LATER = timedelta(hours=1)
"""When the trader cancels the stop on the website, after the daemon placed it."""


class RecentOnly(QuirkyExchange):
    """An archived order is still shown by its order id (and its trades), not by its client id."""

    def _find(self, request: Recorded) -> DeskOrder | None:
        if "orderId" in request.params:
            return TradingExchange._find(self, request)
        return super()._find(request)


@pytest.fixture(params=["binance", "recent_only"])
def desk(request: pytest.FixtureRequest) -> Iterator[QuirkyExchange]:
    values: dict[str, Any] = dict(DESK)
    symbols = values.pop("symbols")
    kind = RecentOnly if request.param == "recent_only" else QuirkyExchange
    yield from serve(kind(symbols, **values))  # type: ignore[misc]


async def _stopped(rig: Rig) -> tuple[LiveBroker, list[events.Event], DeskOrder]:
    """A filled buy of 0.1 BTC at 40,000 whose stop-loss (38,000) rests alone at the exchange."""
    broker = await rig.started()
    seen = listen(broker)
    entry = await broker.submit(buy(0.1, stop_loss=0.05, reference_price=40_000.0), placed_ts=now_ms())
    assert entry.state == "filled"
    [stop] = [o for o in rig.desk.placed if o.type == "STOP_LOSS_LIMIT"]
    assert stop.list_id < 0  # alone, not in a list
    return broker, seen, stop


def _alerts(published: list[events.Event], limit: str) -> list[events.RiskBreached]:
    return [e for e in published if isinstance(e, events.RiskBreached) and e.limit == limit]


def _said(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The warnings and errors logged so far."""
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_lone_stop_cancelled_on_the_website_and_archived_is_told_once(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    broker, published, stop = await _stopped(rig)
    venue = rig.desk
    assert isinstance(venue, QuirkyExchange)
    venue.cancel_by_hand(stop.client_order_id)
    venue.archive(stop.client_order_id)
    rig.clock.offset = LATER

    said = []
    with caplog.at_level(logging.INFO):
        for _ in range(4):
            await broker.poll()
            said.append(len(_said(caplog)))
    assert said[0] > 0 and said[1:] == [said[0]] * 3  # before: nothing, at any poll
    old = await rig.journal.get(client_order_id=stop.client_order_id)
    if isinstance(venue, RecentOnly):  # shown cancelled by its order id: placed again, said once
        [alert] = _alerts(published, exit_cancels.LIMIT)
        assert alert.severity == "critical" and f"client id {stop.client_order_id}" in alert.message
        assert old.state == "cancelled" and (old.reason or "").startswith(f"{AT_EXCHANGE}: placed again as ")
        stop2 = venue.placed[-1]
        assert (stop2.type, stop2.status, stop2.stop_price) == ("STOP_LOSS_LIMIT", "NEW", stop.stop_price)
        assert stop2.quantity == pytest.approx(0.1)
        assert stop2.client_order_id == exit_cancels.successor_ids(old)[0]
        assert broker.unprotected() == {}
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    else:  # nothing tells how it ended: nothing placed on a guess, said once, shown unclear
        assert len(venue.placed) == 2 and _alerts(published, exit_cancels.LIMIT) == []
        [alert] = _alerts(published, lost_legs.LIMIT)
        assert alert.severity == "critical" and f"client id {stop.client_order_id}" in alert.message
        assert old.state == "open" and (old.reason or "").startswith(archived_orders.UNSEEN), old.reason
        assert "check it on the exchange" in (old.reason or "")
        assert "position is unclear" in broker.unprotected()[BTC]

        restarted = rig.broker()  # a start shows it again, quietly
        again = listen(restarted)
        await restarted.start()
        assert "position is unclear" in restarted.unprotected()[BTC] and again == []
        await restarted.poll()
        assert again == []

        venue.archived.discard(stop.client_order_id)  # it turns up, cancelled: placed again
        rig.clock.offset += timedelta(seconds=unclear_lookups.FIRST_S)  # found at its next look
        await restarted.poll()
        assert restarted.unprotected() == {}  # before: unclear until the next restart
        [alert] = _alerts(again, exit_cancels.LIMIT)
        assert f"client id {stop.client_order_id}" in alert.message
        assert venue.placed[-1].status == "NEW" and len(venue.placed) == 3
    await rig.assert_reconciled()


async def test_a_lone_stop_filled_while_archived_lookups_failed_is_booked_filled(rig: Rig) -> None:
    """Asked by its order id, the stop has traded in full: its fill is booked, never dropped."""
    broker, published, stop = await _stopped(rig)
    venue = rig.desk
    assert isinstance(venue, QuirkyExchange)
    venue.archive(stop.client_order_id)  # lookups fail (the exchange's quirk) ...
    venue.set_price(BTC, 37_800.0)  # ... while the stop triggers and fills (its limit is 37,620)
    rig.clock.offset = LATER
    await broker.poll()
    row = await rig.journal.get(client_order_id=stop.client_order_id)
    assert row.state == "filled" and row.filled == pytest.approx(0.1)  # before: open, forever
    assert broker.unprotected() == {} and _alerts(published, lost_legs.LIMIT) == []
