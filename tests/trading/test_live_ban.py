"""An IP ban (HTTP 418, or a 429, whose ``Retry-After`` is longer than a call sits out) is kept for every
caller of the exchange until it ends.

Binance answers 418 with ``Retry-After`` when an address kept calling through a 429, and bans longer
(from 2 minutes up to 3 days) each time it keeps calling through a 418. A trader expects the daemon to go
quiet for the time asked and to say why. Before, a wait longer than ``max_retry_after_s`` failed the call
at once without holding the shared wait: the next poll (and the market feed) called again a moment
later, into the ban, for as long as it lasted.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.orders import OrderState, OrderType
from tests.fakes.quirky_exchange import QuirkyExchange
from tests.trading.live_rig import Rig, buy, open_desk


@pytest.fixture
def desk() -> Iterator[QuirkyExchange]:
    yield from open_desk(QuirkyExchange)


@pytest.fixture
def venue(desk: QuirkyExchange) -> QuirkyExchange:
    """The quirky desk under the name this module's tests use (conftest's ``rig`` is on ``desk``)."""
    return desk


@pytest.mark.parametrize("status", [418, 429])
async def test_a_long_retry_after_keeps_every_call_away_until_it_ends(
    rig: Rig, venue: QuirkyExchange, status: int
) -> None:
    broker = await rig.started()
    resting = await broker.submit(buy(0.1, type=OrderType.LIMIT, price=30_000.0), placed_ts=now_ms())
    assert resting.state == OrderState.OPEN
    venue.fail(status, times=1, path="/api/v3/order", headers={"Retry-After": "300"})
    await broker.poll()  # the lookup of the resting order is answered with the ban
    asked = len(venue.requests)
    assert any("300" in error for error in rig.errors), rig.errors
    for _ in range(3):
        await broker.poll()
    assert len(venue.requests) == asked  # nothing sent into the ban
    assert any("asked to wait" in error for error in rig.errors[1:]), rig.errors
    assert (await rig.journal.get(resting.id)).state == OrderState.OPEN  # untouched meanwhile
