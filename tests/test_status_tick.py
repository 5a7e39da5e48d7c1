"""`/v1/status` gives each symbol's price tick as the exchange quotes it (the fake Binance's PRICE_FILTER:
0.01), read from the markets the feed's ccxt client loaded: the morning report rounds prices to it. The
simulated market has none (its prices are shown at six significant digits)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mastertrade.config import ExchangeSettings
from mastertrade.engine.api.routes_status import build_status
from mastertrade.engine.market.ccxt_venue import CcxtVenue
from tests.fakes.exchange import FAST_CCXT, FakeExchange, serve, venue_settings
from tests.test_feed_trouble_status import NOW, symbol_status


@pytest.fixture
def fake() -> Iterator[FakeExchange]:
    yield from serve(FakeExchange({"BTC/USDT": 42_000.0}, now=NOW))


async def test_the_status_gives_the_exchanges_price_tick(db_url: str, fake: FakeExchange) -> None:
    from tests.daemon.conftest import configure, core_daemon

    settings = configure(market={"venue": "ccxt", "symbols": ["BTC/USDT"], "timeframe": "1m"})
    venue = CcxtVenue(ExchangeSettings(**venue_settings(fake)), options=FAST_CCXT, poll_interval_s=0.05)
    daemon = core_daemon(settings, venue=venue, serve_api=False)
    ctx = await daemon.start()
    try:
        info = await symbol_status(ctx, lambda info: info.price is not None and info.tick is not None)
        assert info.tick == 0.01
    finally:
        await daemon.stop()


async def test_the_simulated_market_has_no_tick(db_url: str) -> None:
    from tests.daemon.conftest import configure, core_daemon

    daemon = core_daemon(configure(market={"symbols": ["BTC/USDT"]}), serve_api=False)
    ctx = await daemon.start()
    try:
        assert all(symbol.tick is None for symbol in (await build_status(ctx)).symbols)
    finally:
        await daemon.stop()
