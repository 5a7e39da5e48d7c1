"""The live broker against the second fake exchange (``tests/fakes/quirky_exchange.py``): a venue that
behaves as real Binance may and as our own desk does not, one quirk at a time.

What these check beyond ``test_live_venue_habits.py``: an order the exchange refuses with a 400 of its
filters is rejected at once with the exchange's reason (not taken for a lost answer and declared "never
reached the exchange" a minute later); a 429's ``Retry-After`` holds every client of the exchange (the
market feed's and the broker's), so the exchange never bans the address with a 418.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from mastertrade.config import ExchangeSettings
from mastertrade.engine.market.ccxt_venue import CcxtVenue
from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.orders import OrderState
from tests.fakes.exchange import FAST_CCXT, serve, venue_settings
from tests.fakes.exchange_trading import API_KEY, SECRET
from tests.fakes.quirky_exchange import Quirks, QuirkyExchange
from tests.trading.live_rig import BTC, DESK, Rig, buy


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


async def test_a_rate_limit_holds_every_client_of_the_exchange_so_it_never_bans_the_address(
    venue: QuirkyExchange,
) -> None:
    """The market feed is told by a 429 to wait a second; the broker's call in that second waits too
    (Binance counts the address's requests: one sent during the wait gets a 418 ban, here one of 200 s,
    which the broker would not sit out)."""
    settings = ExchangeSettings(**venue_settings(venue, api_key=API_KEY, secret=SECRET, timeout_s=5.0))
    feed = CcxtVenue(settings, options=FAST_CCXT)
    trading = CcxtVenue(settings, options=FAST_CCXT)
    try:
        await feed.load_markets()
        await trading.load_markets()
        venue.rate_limit(retry_after_s=1.0, ban_s=200.0)
        candles = asyncio.create_task(feed.fetch_rows(BTC, "1m", None, 5))
        for _ in range(500):  # until the feed has its 429 and waits
            if feed.retries:
                break
            await asyncio.sleep(0.01)
        assert feed.retries == 1
        balance = await trading.call(trading.exchange.fetch_balance, what="binance fetch_balance")
        assert balance["total"]["USDT"] == pytest.approx(100_000.0)
        assert len(await candles) == 5
        assert venue.bans == 0
    finally:
        await feed.close()
        await trading.close()
