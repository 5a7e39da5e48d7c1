"""An OCO list cancelled at the exchange by someone else, one of its legs archived by the exchange.

Binance archives an order that ended without trading: asked by its client order id, it answers "order
does not exist", while the other leg of its list is still found, cancelled. Before, when the archived
leg was the take-profit, the daemon could not confirm it cancelled by its client id and logged an error at
every poll, forever, placing nothing and saying nothing else: the position stayed without exits. When it
was the stop, the stop was settled as expired (as if the take-profit had sold) and the take-profit was
placed again alone, as a plain limit sell: the alert said the exits were back, and the position had no
stop. Now the leg is settled from its list the way its sibling was cancelled, confirmed through the list
and by its order id, and the pair placed again under new client ids, said once
(``execution/archived_legs.py``). Where the exchange cannot tell at all (its list archived too), nothing
is placed on a guess: the position is shown without exits, said once, and the log does not repeat it.

The venue is the quirky exchange (``tests/fakes/quirky_exchange.py``), whose ``archive`` forgets an order
and ``archive_list`` an order list.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from mastertrade.engine import events
from mastertrade.engine.execution import exit_cancels, live_oco, lost_legs
from tests.fakes.quirky_exchange import QuirkyExchange
from tests.trading.live_rig import BTC, Rig, bracketed, listen, open_desk

AT_EXCHANGE = exit_cancels.CANCELLED_AT_EXCHANGE
LATER = timedelta(hours=1)
"""When the trader cancels the list on the website, after the daemon placed it."""


@pytest.fixture
def desk() -> Iterator[QuirkyExchange]:
    yield from open_desk(QuirkyExchange)


def _alerts(published: list[events.Event], limit: str) -> list[events.RiskBreached]:
    return [e for e in published if isinstance(e, events.RiskBreached) and e.limit == limit]


def _said(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The warnings and errors logged so far."""
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("archived", ["stop", "take_profit", "both"])
async def test_a_list_cancelled_on_the_website_one_leg_archived_is_placed_again_once(
    rig: Rig, archived: str, caplog: pytest.LogCaptureFixture
) -> None:
    broker, published, stop, take = await bracketed(rig)
    venue = rig.desk
    assert isinstance(venue, QuirkyExchange)
    gone = {"stop": [stop], "take_profit": [take], "both": [stop, take]}[archived]
    venue.cancel_by_hand(take.client_order_id)  # the whole list goes, as on Binance...
    for leg in gone:  # ...and the exchange no longer shows a leg by its client id
        venue.archive(leg.client_order_id)
    rig.clock.offset = LATER

    said = []
    with caplog.at_level(logging.INFO):
        for _ in range(4):
            await broker.poll()
            said.append(len(_said(caplog)))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # before: one at every poll
    # told within two polls (an archived stop is settled once its sibling's cancel is read), not again
    assert said[1] > 0 and said[2:] == [said[1]] * 2

    stop2, take2 = venue.placed[-2:]
    assert (stop2.type, take2.type, stop2.status, take2.status) == (
        "STOP_LOSS_LIMIT",
        "LIMIT_MAKER",
        "NEW",
        "NEW",
    )  # before: nothing, or a lone limit sell at the take-profit
    assert (stop2.stop_price, stop2.price, take2.price) == (stop.stop_price, stop.price, take.price)
    assert stop2.quantity == take2.quantity == pytest.approx(0.1)
    old_stop = await rig.journal.get(client_order_id=stop.client_order_id)
    old_take = await rig.journal.get(client_order_id=take.client_order_id)
    assert (stop2.client_order_id, take2.client_order_id) == exit_cancels.successor_ids(old_stop)
    for old in (old_stop, old_take):
        assert old.state == "cancelled"
        assert (old.reason or "").startswith(f"{AT_EXCHANGE}: placed again as "), old.reason
    [alert] = _alerts(published, exit_cancels.LIMIT)
    assert alert.severity == "critical" and alert.symbol == BTC
    assert f"client id {stop.client_order_id}" in alert.message
    assert f"client id {take.client_order_id}" in alert.message
    # the archived leg was asked through its list, by the list's client id
    lists = [r for r in venue.requests_to("/api/v3/orderList") if r.method == "GET"]
    assert live_oco.list_client_id(old_stop) in {r.params.get("origClientOrderId") for r in lists}
    assert broker.unprotected() == {} and rig.errors == []

    await rig.started()  # a start places nothing more
    assert len(venue.placed) == 5 and len(_alerts(published, exit_cancels.LIMIT)) == 1
    await rig.assert_reconciled()


async def test_a_list_cancelled_and_archived_while_the_daemon_was_down_is_placed_again(rig: Rig) -> None:
    _, _, stop, take = await bracketed(rig)
    venue = rig.desk
    assert isinstance(venue, QuirkyExchange)
    venue.cancel_by_hand(stop.client_order_id)
    venue.archive(stop.client_order_id)
    rig.clock.offset = LATER

    restarted = rig.broker()
    published = listen(restarted)
    await restarted.start()
    await restarted.poll()  # the stop is settled once the start has read its sibling's cancel
    resting = sorted(o.type for o in venue.orders.values() if o.side == "SELL" and o.status == "NEW")
    assert resting == ["LIMIT_MAKER", "STOP_LOSS_LIMIT"]  # before: the take-profit alone, as a limit sell
    [alert] = _alerts(published, exit_cancels.LIMIT)
    assert f"client id {stop.client_order_id}" in alert.message
    assert f"client id {take.client_order_id}" in alert.message
    await restarted.poll()
    assert len(venue.placed) == 5 and len(_alerts(published, exit_cancels.LIMIT)) == 1
    await rig.assert_reconciled()


async def test_a_leg_whose_list_is_archived_too_is_marked_said_once_and_its_sibling_not_sent_alone(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    broker, published, stop, take = await bracketed(rig)
    venue = rig.desk
    assert isinstance(venue, QuirkyExchange)
    venue.cancel_by_hand(take.client_order_id)
    venue.archive(take.client_order_id)
    venue.archive_list(venue.lists[stop.list_id][0])  # nothing at the exchange tells how the take ended
    rig.clock.offset = LATER

    said = []
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            await broker.poll()
            said.append(len(_said(caplog)))
    assert said[1:] == [said[0]] * 2
    row = await rig.journal.get(client_order_id=take.client_order_id)
    assert (row.reason or "").startswith(lost_legs.UNSETTLED), row.reason  # before: said at every poll
    assert "check it on the exchange" in (row.reason or "")
    [alert] = _alerts(published, lost_legs.LIMIT)
    assert alert.severity == "critical" and f"client id {take.client_order_id}" in alert.message
    assert "position is unclear" in broker.unprotected()[BTC]
    # before: the stop went back alone, as if the take-profit were known to have ended
    assert len(venue.placed) == 3 and _alerts(published, exit_cancels.LIMIT) == []
    assert (await rig.journal.get(client_order_id=stop.client_order_id)).reason == AT_EXCHANGE


async def test_exits_the_exchange_no_longer_confirms_are_said_once_and_shown_without_exits(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The daemon stopped after reading the cancel and before placing the exits again; meanwhile the
    exchange archived the take-profit and the list."""
    broker, published, stop, take = await bracketed(rig)
    venue = rig.desk
    assert isinstance(venue, QuirkyExchange)
    venue.cancel_by_hand(take.client_order_id)

    class Killed(BaseException):
        """The daemon killed between reading the cancel and placing the exits again."""

    async def killed(*_: Any, **__: Any) -> Any:
        raise Killed

    monkeypatch.setattr(exit_cancels, "restore", killed)
    with pytest.raises(Killed):
        await broker.poll()
    monkeypatch.undo()
    for leg in (stop, take):
        assert (await rig.journal.get(client_order_id=leg.client_order_id)).reason == AT_EXCHANGE
    venue.archive(take.client_order_id)
    venue.archive_list(venue.lists[stop.list_id][0])
    rig.clock.offset = LATER

    with caplog.at_level(logging.INFO):
        restarted = rig.broker()
        restarted.publish = published.append
        await restarted.start()
        said = len(_said(caplog))
        for _ in range(3):
            await restarted.poll()
    assert len(_said(caplog)) == said  # before: an error at every poll
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(venue.placed) == 3  # nothing placed on a guess
    [alert] = _alerts(published, exit_cancels.LIMIT)
    assert alert.severity == "critical" and "not placed again" in alert.message
    assert f"client id {take.client_order_id}" in alert.message and "check the order there" in alert.message
    shown = restarted.unprotected()[BTC]
    assert "no exits at the exchange" in shown and f"client id {take.client_order_id}" in shown
    for leg in (stop, take):
        row = await rig.journal.get(client_order_id=leg.client_order_id)
        assert (row.reason or "").startswith(f"{AT_EXCHANGE}: not placed again"), row.reason

    again = rig.broker()  # a start shows it again (said once more: a new run's alert history)
    await again.start()
    assert "no exits at the exchange" in again.unprotected()[BTC]
    assert len(venue.placed) == 3
