"""The live broker against the second fake exchange (``tests/fakes/quirky_exchange.py``): a venue that
behaves as real Binance may and as our own desk does not, one quirk at a time.

What these check beyond ``test_live_venue_habits.py``: an order the exchange refuses with a 400 of its
filters is rejected at once with the exchange's reason (not taken for a lost answer and declared "never
reached the exchange" a minute later).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.orders import OrderState
from tests.fakes.exchange import serve
from tests.fakes.quirky_exchange import Quirks, QuirkyExchange
from tests.trading.live_rig import DESK, Rig, buy


@pytest.fixture
def quirks(request: pytest.FixtureRequest) -> Quirks:
    return Quirks(**getattr(request, "param", {}))


@pytest.fixture
def venue(quirks: Quirks) -> Iterator[QuirkyExchange]:
    values: dict[str, Any] = dict(DESK)
    symbols = values.pop("symbols")
    yield from serve(QuirkyExchange(symbols, quirks=quirks, **values))  # type: ignore[misc]


@pytest.fixture
async def quirky(database: Any, venue: QuirkyExchange) -> AsyncIterator[Rig]:
    rig = Rig(database, venue)
    try:
        yield rig
    finally:
        await rig.close()


async def test_an_order_refused_by_the_exchanges_notional_filter_is_rejected_with_its_reason(
    quirky: Rig, venue: QuirkyExchange
) -> None:
    """Binance refuses an order under its NOTIONAL filter with a 400 (-1013), which ccxt raises as a
    ``BadRequest``: a refusal, not an answer lost. (The daemon's market data said the order was worth
    enough: the exchange measures a market order on its own average price, and changes its filters.)"""
    broker = await quirky.started()
    venue.quirks.min_notional = "10"  # raised at the exchange since the daemon read its markets
    row = await broker.submit(buy(0.0002), placed_ts=now_ms())
    assert row.state == OrderState.REJECTED
    assert "Filter failure: NOTIONAL" in (row.reason or "")
    assert venue.placed == []
    assert await quirky.journal.in_flight("live") == []
