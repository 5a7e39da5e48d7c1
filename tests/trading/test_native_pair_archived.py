"""A strategy's native exit pair (``native_stops``) cancelled on the exchange's website, one leg archived.

Binance archives an order that ended without trading: asked by its client order id, it answers "order
does not exist". Like a bracketed buy's pair (``test_oco_cancelled_leg_archived.py``), a strategy's pair
is confirmed through its order list and by its order id, and placed again as one list, said once. When
the exchange cannot tell at all (the list archived too), nothing is placed on a guess: before, an error
was logged at every price ("the journal has it cancelled, the exchange does not know it") for as long as
the position was held; now it is said once, the position is shown without exits at the exchange, and the
daemon's own watch protects it while it runs, until it is sold.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from mastertrade.engine import events
from mastertrade.engine.execution import exit_cancels
from tests.fakes.quirky_exchange import QuirkyExchange
from tests.trading.live_rig import open_desk
from tests.trading.test_live_protection import BTC, Desk

AT_EXCHANGE = exit_cancels.CANCELLED_AT_EXCHANGE


@pytest.fixture
def exchange() -> Iterator[QuirkyExchange]:
    yield from open_desk(QuirkyExchange)


def _alerts(published: list[events.Event]) -> list[events.RiskBreached]:
    return [e for e in published if isinstance(e, events.RiskBreached) and e.limit == exit_cancels.LIMIT]


def _said(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The warnings and errors logged so far."""
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _resting(exchange: QuirkyExchange) -> list[str]:
    return sorted(o.type for o in exchange.orders.values() if o.side == "SELL" and o.status == "NEW")


async def test_a_strategys_pair_cancelled_on_the_website_one_leg_archived_is_placed_again_once(
    database: Any, exchange: QuirkyExchange, caplog: pytest.LogCaptureFixture
) -> None:
    desk = Desk(database, exchange, native=True, stop_loss=0.05, take_profit=0.05)
    try:
        trader = await desk.run()
        await desk.enter(trader)
        [stop] = [o for o in exchange.placed if o.type == "STOP_LOSS_LIMIT"]
        [take] = [o for o in exchange.placed if o.type == "LIMIT_MAKER"]
        exchange.cancel_by_hand(stop.client_order_id)  # the whole list goes, as on Binance...
        exchange.archive(take.client_order_id)  # ...and the exchange no longer shows the take-profit
        desk.clock.offset = timedelta(minutes=5)  # past the legs' arrival window

        with caplog.at_level(logging.INFO):
            for price in (40_000.0, 40_100.0, 40_200.0, 40_050.0):
                await desk.tick(trader, price)
                await trader.housekeeping()
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert _resting(exchange) == ["LIMIT_MAKER", "STOP_LOSS_LIMIT"]
        [stop2] = [o for o in exchange.placed[3:] if o.type == "STOP_LOSS_LIMIT"]
        [take2] = [o for o in exchange.placed[3:] if o.type == "LIMIT_MAKER"]
        assert stop2.list_id == take2.list_id >= 0
        assert (stop2.stop_price, take2.price) == (stop.stop_price, take.price)
        [alert] = _alerts(desk.events)
        assert alert.severity == "critical" and f"client id {stop.client_order_id}" in alert.message
        journal = trader.account.journal
        old_stop = await journal.get(client_order_id=stop.client_order_id)
        assert (old_stop.reason or "").startswith(f"{AT_EXCHANGE}: placed again as "), old_stop.reason
        assert trader.account.broker.unprotected() == {}  # type: ignore[attr-defined]
        assert len(exchange.placed) == 5
    finally:
        await desk.close()


async def test_a_strategys_pair_the_exchange_no_longer_confirms_is_said_once_not_at_every_price(
    database: Any, exchange: QuirkyExchange, caplog: pytest.LogCaptureFixture
) -> None:
    desk = Desk(database, exchange, native=True, stop_loss=0.05, take_profit=0.05)
    try:
        trader = await desk.run()
        await desk.enter(trader)
        [stop] = [o for o in exchange.placed if o.type == "STOP_LOSS_LIMIT"]
        [take] = [o for o in exchange.placed if o.type == "LIMIT_MAKER"]
        broker: Any = trader.account.broker
        exchange.cancel_by_hand(stop.client_order_id)
        await broker.poll()  # the daemon reads the cancel of both legs...
        journal = trader.account.journal
        for leg in (stop, take):
            assert (await journal.get(client_order_id=leg.client_order_id)).reason == AT_EXCHANGE
        exchange.archive(take.client_order_id)  # ...and then the exchange forgets the take-profit
        exchange.archive_list(exchange.lists[stop.list_id][0])  # and its list: nothing tells

        with caplog.at_level(logging.INFO):
            await trader.housekeeping()
            said = len(_said(caplog))
            for price in (40_100.0, 40_200.0, 40_050.0):
                await desk.tick(trader, price)
                await trader.housekeeping()
        assert len(_said(caplog)) == said  # before: an error at every price
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(exchange.placed) == 3  # nothing placed on a guess
        [alert] = _alerts(desk.events)
        assert alert.severity == "critical" and "not placed again" in alert.message
        assert f"client id {take.client_order_id}" in alert.message
        assert "only the daemon's own watch protects the position" in alert.message
        shown = broker.unprotected()[BTC]
        assert "no exits at the exchange" in shown and f"client id {take.client_order_id}" in shown
        for leg in (stop, take):
            row = await journal.get(client_order_id=leg.client_order_id)
            assert (row.reason or "").startswith(f"{AT_EXCHANGE}: not placed again"), row.reason

        restarted = await desk.run()  # a start neither places them on a guess nor forgets the position
        await restarted.housekeeping()
        assert len(exchange.placed) == 3
        assert "no exits at the exchange" in restarted.account.broker.unprotected()[BTC]  # type: ignore[attr-defined]

        await desk.close_bar(restarted, 40_050.0, 40_100.0, 39_500.0, 39_600.0)  # the exit signal: sold
        await restarted.housekeeping()
        assert restarted.account.broker.unprotected() == {}  # type: ignore[attr-defined]
        await desk.close_bar(restarted, 39_500.0, 39_900.0, 39_400.0, 39_800.0)  # the next entry...
        assert [o.status for o in desk.orders("BUY")] == ["FILLED", "FILLED"]
        assert _resting(exchange) == ["LIMIT_MAKER", "STOP_LOSS_LIMIT"]  # ...has its exits there again
    finally:
        await desk.close()
