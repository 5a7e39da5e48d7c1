"""A live feed that keeps failing (the exchange answers 5xx to every poll) shows in `mt status`, per
symbol, with the reason and since when, instead of "running" with no error while the bars stop; the
first poll that works again clears it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from mastertrade.config import ExchangeSettings
from mastertrade.engine.api.routes_status import build_status
from mastertrade.engine.api.schemas import SymbolInfo
from mastertrade.engine.kernel.context import EngineContext
from mastertrade.engine.market.ccxt_venue import CcxtVenue
from tests.fakes.exchange import FAST_CCXT, FakeExchange, serve, venue_settings

MINUTE = 60_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
NOW = T0 + 30 * MINUTE + 15_000
KLINES = "/api/v3/klines"


@pytest.fixture
def fake() -> Iterator[FakeExchange]:
    yield from serve(FakeExchange({"BTC/USDT": 42_000.0}, now=NOW))


async def symbol_status(ctx: EngineContext, wanted: Any, timeout: float = 10.0) -> SymbolInfo:
    """The status of BTC/USDT once ``wanted(info)`` holds (the feed polls in the background)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        info = (await build_status(ctx)).symbols[0]
        if wanted(info):
            return info
        if loop.time() > deadline:
            raise AssertionError(f"status not reached within {timeout} s: {info}")
        await asyncio.sleep(0.02)


async def test_a_failing_feed_is_shown_in_the_status_until_it_works_again(
    db_url: str, fake: FakeExchange
) -> None:
    from tests.daemon.conftest import configure, core_daemon

    settings = configure(market={"venue": "ccxt", "symbols": ["BTC/USDT"], "timeframe": "1m"})
    venue = CcxtVenue(
        ExchangeSettings(**venue_settings(fake, max_retries=1)), options=FAST_CCXT, poll_interval_s=0.05
    )
    fake.fail(500, times=1_000_000, path=KLINES)
    daemon = core_daemon(settings, venue=venue, serve_api=False)
    ctx = await daemon.start()
    try:
        failing = await symbol_status(ctx, lambda info: info.feed_error is not None)
        assert "venue unavailable after 1 retry" in (failing.feed_error or "")
        assert failing.feed_error_since is not None
        feed = next(status for status in (await build_status(ctx)).services if status.name == "market-feed")
        assert feed.state == "running"  # the service itself is fine: it retries, and says why it waits
        fake._faults.clear()
        healthy = await symbol_status(ctx, lambda info: info.feed_error is None)
        assert healthy.feed_error_since is None
    finally:
        await daemon.stop()
