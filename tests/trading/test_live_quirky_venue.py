"""The live broker against the second fake exchange (``tests/fakes/quirky_exchange.py``): a venue that
behaves as real Binance may and as our own desk does not, one quirk at a time.

What these check beyond ``test_live_venue_habits.py``: an order the exchange refuses with a 400 of its
filters is rejected at once with the exchange's reason (not taken for a lost answer and declared "never
reached the exchange" a minute later); a 429's ``Retry-After`` holds every client of the exchange (the
market feed's and the broker's), so the exchange never bans the address with a 418; a bracketed buy
whose stop-loss the exchange's minimum notional would refuse is refused before it is sent, or, when only
its fill shows it (a fee taken from the coins bought), its exits are not sent and the position is said
unprotected.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from mastertrade import errors
from mastertrade.config import ExchangeSettings
from mastertrade.engine.market.ccxt_venue import CcxtVenue
from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.orders import OrderRequest, OrderState, Side
from tests.fakes.exchange import FAST_CCXT, serve, venue_settings
from tests.fakes.exchange_trading import API_KEY, SECRET
from tests.fakes.quirky_exchange import Quirks, QuirkyExchange
from tests.trading.live_rig import BTC, DESK, Rig, buy


@pytest.fixture
def quirks(request: pytest.FixtureRequest) -> Quirks:
    return Quirks(**getattr(request, "param", {}))


@pytest.fixture
def venue_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Options of the desk under the quirks (``TradingExchange``'s), over ``live_rig.DESK``."""
    return dict(getattr(request, "param", {}))


@pytest.fixture
def venue(quirks: Quirks, venue_options: dict[str, Any]) -> Iterator[QuirkyExchange]:
    values: dict[str, Any] = {**DESK, **venue_options}
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


async def test_a_bracketed_buy_too_small_for_its_stop_at_the_exchange_is_refused_before_it_is_sent(
    quirky: Rig, venue: QuirkyExchange
) -> None:
    """0.00013 BTC is worth 5.20 USDT at 40,000 (Binance's minimum is 5), but its stop 5% under, with its
    limit 1% under that (37,620), would sell it for 4.89: the exchange refuses such a stop, and the buy
    would be left bare. Refused up front, naming the amounts, nothing sent."""
    broker = await quirky.started()
    with pytest.raises(errors.UserInputError, match=r"stop-loss.*37620.*minimum notional of 5 USDT"):
        await broker.submit(buy(0.00013, stop_loss=0.05, reference_price=40_000.0), placed_ts=now_ms())
    assert venue.placed == []
    assert await quirky.journal.orders(book="live") == []


@pytest.mark.parametrize("quirks", [{"lot_step": "0.001"}], indirect=True)
@pytest.mark.parametrize("venue_options", [{"fee_asset": "ETH"}], indirect=True)
async def test_exits_the_exchange_would_refuse_after_the_fee_are_not_sent_and_the_position_is_unprotected(
    quirky: Rig, venue: QuirkyExchange
) -> None:
    """0.003 ETH at 2,000 passes with its stop (0.003 x 1,782 = 5.35 USDT), but the fee is taken from the
    coins bought: 0.002997 held, 0.002 in whole lot steps, 3.56 USDT at the stop's limit. Sent, the pair
    is refused and the position bare with one INFO line; instead the exits are cancelled saying why and
    the position shows unprotected (a warning and an ``exit_unplaced`` alert)."""
    broker = await quirky.started()
    entry = await broker.submit(
        OrderRequest(
            "ETH/USDT", Side.BUY, amount=0.003, stop_loss=0.1, take_profit=0.1, reference_price=2_000.0
        ),
        placed_ts=now_ms(),
    )
    assert entry.state == OrderState.FILLED
    exits = [row for row in await quirky.journal.orders(book="live") if row.parent_id == entry.id]
    assert [row.state for row in exits] == [OrderState.CANCELLED] * 2
    assert all("minimum notional of 5 USDT" in (row.reason or "") for row in exits)
    assert [order.type for order in venue.placed] == ["MARKET"]  # no pair the exchange would refuse
    assert "minimum notional" in broker.unprotected()["ETH/USDT"]
