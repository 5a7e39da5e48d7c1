"""``CcxtVenue``: the real ccxt Binance client against our fake exchange on 127.0.0.1.

Covers the api_url override (rebased families, fail-closed everything else, the fetch guard), retries
through the venue (429/418 storms, 5xx, hangs, dropped connections, clock re-sync), keys kept out of
logs, and the polling live feed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from mastertrade import errors
from mastertrade.config import ExchangeSettings
from mastertrade.engine.market.ccxt_venue import BLOCKED_ORIGIN, BlockedRequest, CcxtVenue
from mastertrade.engine.market.venue import CandleUpdate, Venue
from tests.fakes.exchange import (
    FAST_CCXT,
    FakeExchange,
    Recorded,
    Reply,
    binance_error,
    serve,
    venue_settings,
)

MINUTE = 60_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
NOW = T0 + 3 * 86_400_000 + 30 * MINUTE + 15_000  # mid-bar, so a bar is forming
API_KEY = "k3y-abcdef-0123456789"
SECRET = "s3cret-9876543210-fedcba"


@pytest.fixture
def fake() -> Iterator[FakeExchange]:
    yield from serve(FakeExchange({"BTC/USDT": 42_000.0, "ETH/USDT": 2_300.0}, now=NOW, hang_s=5))


def make_venue(fake: FakeExchange, **settings: Any) -> CcxtVenue:
    return CcxtVenue(ExchangeSettings(**venue_settings(fake, **settings)), options=FAST_CCXT)


async def test_markets_load_from_exchange_info_only(fake: FakeExchange) -> None:
    async with make_venue(fake) as venue:
        assert isinstance(venue, Venue) and venue.id == "binance" and not venue.simulated
        markets = await venue.load_markets()
        assert {"BTC/USDT", "ETH/USDT"} <= set(markets)
        await venue.check_symbol("BTC/USDT")
        with pytest.raises(errors.NotFound, match=r"unknown symbol 'BTC/USDX' on binance \(did you mean"):
            await venue.check_symbol("BTC/USDX")
    assert [(r.method, r.path) for r in fake.requests] == [("GET", "/api/v3/exchangeInfo")]


async def test_fetch_ohlcv_returns_the_exchange_bars_oldest_first(fake: FakeExchange) -> None:
    async with make_venue(fake) as venue:
        rows = await venue.fetch_ohlcv("BTC/USDT", "1m", T0, 500)
    assert rows == fake.closed_candles("BTC/USDT", "1m", T0, T0 + 500 * MINUTE)
    klines = fake.requests_to("/api/v3/klines")
    assert klines[0].params == {"symbol": "BTCUSDT", "interval": "1m", "startTime": str(T0), "limit": "500"}


def test_timeframes_and_exchange_ids_are_checked() -> None:
    with pytest.raises(errors.UserInputError, match="unknown exchange 'binanse'"):
        CcxtVenue(ExchangeSettings(id="binanse"))
    # A non-http(s) api_url is refused by the settings themselves, before any venue is built.
    with pytest.raises(ValidationError, match="api_url"):
        CcxtVenue(ExchangeSettings(api_url="127.0.0.1:8080"))
    venue = CcxtVenue(ExchangeSettings())
    venue.check_timeframe("1h")
    with pytest.raises(errors.UserInputError, match="timeframe '7m' is not offered by binance"):
        venue.check_timeframe("7m")
    with pytest.raises(errors.UserInputError, match="invalid timeframe 'hourly'"):
        venue.check_timeframe("hourly")


async def test_api_url_rebases_main_families_and_fails_closed(fake: FakeExchange) -> None:
    venue = make_venue(fake)
    api = venue.exchange.urls["api"]
    assert api["public"] == api["private"] == fake.base_url + "/api/v3"
    others = {family: url for family, url in api.items() if family not in ("public", "private")}
    assert others and all(url.startswith(BLOCKED_ORIGIN + "/") for url in others.values())
    assert api["sapi"] == BLOCKED_ORIGIN + "/sapi/sapi/v1"  # original path kept after the family
    try:
        await venue.load_markets()
        before = len(fake.requests)
        # Another family (margin, futures, wallet): refused before any connection is attempted.
        with pytest.raises(BlockedRequest, match=r"refused GET https://blocked.invalid/sapi"):
            await venue.call(lambda: venue.exchange.sapi_get_system_status(), what="status")
        with pytest.raises(BlockedRequest):
            await venue.exchange.fapipublic_get_klines({"symbol": "BTCUSDT", "interval": "1m"})
        assert venue.retries == 0 and len(fake.requests) == before
        # Even a family pointed at a live server on purpose cannot reach it: the guard sits in fetch.
        with FakeExchange() as elsewhere:
            venue.exchange.urls["api"]["sapi"] = elsewhere.base_url + "/sapi/v1"
            with pytest.raises(BlockedRequest, match=elsewhere.base_url):
                await venue.exchange.sapi_get_system_status()
            assert elsewhere.requests == []
        # A look-alike host sharing the prefix is no exception.
        venue.exchange.urls["api"]["sapi"] = fake.base_url + "0/sapi/v1"
        with pytest.raises(BlockedRequest):
            await venue.exchange.sapi_get_system_status()
    finally:
        await venue.close()
    hosts = {request.header("Host") for request in fake.requests}
    assert hosts == {f"127.0.0.1:{fake.port}"}


async def test_keys_and_api_url_belong_to_the_configured_exchange_only(fake: FakeExchange) -> None:
    settings = ExchangeSettings(api_url=fake.base_url, api_key=API_KEY, secret=SECRET)
    other = CcxtVenue(settings, exchange_id="kraken", options=FAST_CCXT)
    try:
        assert other.api_url is None and not other.exchange.apiKey and not other.exchange.secret
        assert other.exchange.urls["api"]["public"] == "https://api.kraken.com"
    finally:
        await other.close()
    own = CcxtVenue(settings, options=FAST_CCXT)
    try:
        assert own.exchange.apiKey == API_KEY and API_KEY not in repr(own)
    finally:
        await own.close()


def account_route(fake: FakeExchange, answers: list[Reply]) -> None:
    """/api/v3/account answering the given replies in turn (the last one repeats)."""

    def handler(request: Recorded) -> Reply:
        return answers.pop(0) if len(answers) > 1 else answers[0]

    fake.route("GET", "/api/v3/account", handler)


BALANCES = Reply(
    200,
    {
        "makerCommission": 10,
        "takerCommission": 10,
        "canTrade": True,
        "accountType": "SPOT",
        "balances": [{"asset": "USDT", "free": "1000.0", "locked": "0.0"}],
        "permissions": ["SPOT"],
    },
)


async def test_signed_calls_carry_the_key_but_logs_never_do(
    fake: FakeExchange, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    account_route(fake, [Reply(503, "busy"), BALANCES])
    venue = make_venue(fake, api_key=API_KEY, secret=SECRET)
    try:
        balance = await venue.call(lambda: venue.exchange.fetch_balance(), what="fetch_balance")
    finally:
        await venue.close()
    assert balance["USDT"]["free"] == 1000.0
    signed = fake.requests_to("/api/v3/account")
    assert len(signed) == 2 and signed[-1].header("X-MBX-APIKEY") == API_KEY
    assert "signature" in signed[-1].params and "recvWindow" in signed[-1].params
    assert caplog.records  # the retry was logged ...
    assert API_KEY not in caplog.text and SECRET not in caplog.text  # ... without the key
    assert signed[-1].params["signature"] not in caplog.text


async def test_invalid_nonce_resyncs_the_clock_through_the_time_endpoint(fake: FakeExchange) -> None:
    stale = Reply(400, binance_error(-1021, "Timestamp for this request is outside of the recvWindow."))
    account_route(fake, [stale, BALANCES])
    venue = make_venue(fake, api_key=API_KEY, secret=SECRET)
    try:
        await venue.call(lambda: venue.exchange.fetch_balance(), what="fetch_balance")
        # The fake's clock runs days behind ours: the re-sync measured the difference.
        assert venue.exchange.options["timeDifference"] > 86_400_000
    finally:
        await venue.close()
    assert len(fake.requests_to("/api/v3/time")) == 1
    assert len(fake.requests_to("/api/v3/account")) == 2


async def test_bad_key_is_fatal_at_once(fake: FakeExchange) -> None:
    account_route(fake, [Reply(401, binance_error(-2015, "Invalid API-key, IP, or permissions for action."))])
    venue = make_venue(fake, api_key=API_KEY, secret=SECRET)
    try:
        with pytest.raises(errors.AuthenticationFailed, match="refused the API key"):
            await venue.call(lambda: venue.exchange.fetch_balance(), what="fetch_balance")
    finally:
        await venue.close()
    assert len(fake.requests_to("/api/v3/account")) == 1


@pytest.mark.parametrize("status", [429, 418])
async def test_rate_limit_storm_is_ridden_out(fake: FakeExchange, status: int) -> None:
    async with make_venue(fake) as venue:
        await venue.load_markets()
        fake.fail(status, times=3, path="/api/v3/klines")
        rows = await venue.fetch_ohlcv("BTC/USDT", "1h", T0, 10)
        assert len(rows) == 10 and venue.retries == 3
    assert len(fake.requests_to("/api/v3/klines")) == 4


async def test_a_rate_limit_waits_as_long_as_retry_after_asks(fake: FakeExchange) -> None:
    """Binance bans an IP (418) that asks again before its 429's Retry-After: that wait is kept even
    past backoff_max_s (20 ms here), and a wait longer than the policy sits out fails at once."""
    import time
    from email.utils import formatdate

    from mastertrade.engine.market.retry import RetryPolicy

    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    settings = ExchangeSettings(**venue_settings(fake))
    async with CcxtVenue(settings, options=FAST_CCXT, retry=RetryPolicy(settings, sleep=sleep)) as venue:
        await venue.load_markets()
        fake.fail(429, path="/api/v3/klines", headers={"Retry-After": "7"})
        fake.fail(429, path="/api/v3/klines", headers={"Retry-After": formatdate(time.time() + 30)})
        assert len(await venue.fetch_ohlcv("BTC/USDT", "1h", T0, 10)) == 10
        assert waits[0] == 7 and 25 < waits[1] <= 30  # an HTTP date: until then
        fake.fail(418, path="/api/v3/klines", headers={"Retry-After": "7200"})
        with pytest.raises(errors.RateLimited, match=r"asks to wait 7200s \(Retry-After\); try again later"):
            await venue.fetch_ohlcv("BTC/USDT", "1h", T0, 10)
        assert len(waits) == 2 and venue.retries == 2
    assert len(fake.requests_to("/api/v3/klines")) == 4


async def test_persistent_failure_gives_up_as_venue_unavailable(fake: FakeExchange) -> None:
    async with make_venue(fake, max_retries=2) as venue:
        await venue.load_markets()
        fake.fail(503, times=10, path="/api/v3/klines", body="Service Unavailable")
        with pytest.raises(errors.VenueUnavailable, match="after 2 retries"):
            await venue.fetch_ohlcv("BTC/USDT", "1h", T0, 10)
    assert len(fake.requests_to("/api/v3/klines")) == 3


async def test_hang_and_dropped_connections_are_retried(fake: FakeExchange) -> None:
    async with make_venue(fake, timeout_s=0.3) as venue:
        await venue.load_markets()
        fake.hang(path="/api/v3/klines")
        assert len(await venue.fetch_ohlcv("BTC/USDT", "1h", T0, 5)) == 5
        assert venue.retries == 1
        # aiohttp silently resends once on a reused connection that was closed; the second drop surfaces.
        fake.drop(times=2, path="/api/v3/klines")
        assert len(await venue.fetch_ohlcv("BTC/USDT", "1h", T0, 5)) == 5
        assert venue.retries == 2
    assert fake.pending_faults() == 0


async def test_stream_emits_forming_bars_on_change_and_each_close_once(fake: FakeExchange) -> None:
    polls = [0]

    async def sleep(seconds: float) -> None:
        polls[0] += 1
        if polls[0] % 4:  # the clock stands still on every fourth poll: nothing new to emit
            fake.now = fake.now + 20_000

    updates: list[CandleUpdate] = []
    venue = CcxtVenue(
        ExchangeSettings(api_url=fake.base_url, backoff_s=0.01, backoff_max_s=0.02),
        options=FAST_CCXT,
        poll_interval_s=7.0,
        sleep=sleep,
    )
    try:
        async for update in venue.stream(["BTC/USDT", "ETH/USDT"], "1m"):
            updates.append(update)
            if polls[0] == 5:
                fake.fail(503, times=10, path="/api/v3/klines")  # an outage the feed rides through
            if sum(u.closed for u in updates) == 6:
                break
    finally:
        await venue.close()
    for symbol in ("BTC/USDT", "ETH/USDT"):
        mine = [u for u in updates if u.symbol == symbol]
        closed = [u for u in mine if u.closed]
        assert [u.ts for u in closed] == [T0 + (3 * 1440 + 30 + i) * MINUTE for i in range(3)]
        for u in closed:  # a closed bar carries the exchange's final values
            assert u.row() == fake.candle(symbol, "1m", u.ts)
        forming = [u for u in mine if not u.closed]
        assert forming[0].ts == closed[0].ts
        assert all(a.row() != b.row() for a, b in zip(forming, forming[1:], strict=False))
        assert len({(u.ts, u.closed) for u in closed}) == len(closed)


async def test_polling_survives_duplicate_and_out_of_order_rows(fake: FakeExchange) -> None:
    """An exchange that answers newest first and repeats its forming bar: the feed still closes each
    bar once, with its final values, and never takes the repeated forming bar for a closed one."""

    async def sleep(seconds: float) -> None:
        fake.now = fake.now + 20_000

    updates: list[CandleUpdate] = []
    venue = CcxtVenue(
        ExchangeSettings(api_url=fake.base_url, backoff_s=0.01, backoff_max_s=0.02),
        options=FAST_CCXT,
        poll_interval_s=7.0,
        sleep=sleep,
    )
    served = venue.exchange.fetch_ohlcv

    async def shuffled(*args: Any, **kwargs: Any) -> list[list[Any]]:
        rows = await served(*args, **kwargs)
        return [rows[-1], *reversed(rows)] if rows else rows

    venue.exchange.fetch_ohlcv = shuffled
    try:
        async for update in venue.stream(["BTC/USDT"], "1m"):
            updates.append(update)
            if sum(u.closed for u in updates) == 3:
                break
    finally:
        await venue.close()
    first = NOW - NOW % MINUTE
    closed = [u for u in updates if u.closed]
    assert [u.ts for u in closed] == [first + i * MINUTE for i in range(3)]
    assert [u.row() for u in closed] == [fake.candle("BTC/USDT", "1m", u.ts) for u in closed]
    assert updates[0].ts == first and not updates[0].closed


async def test_open_venue_builds_the_configured_ccxt_venue(fake: FakeExchange) -> None:
    from mastertrade.config import Settings
    from mastertrade.engine.market.factory import open_venue

    market = {"venue": "ccxt", "symbols": ["BTC/USDT", "ETH/USDT"], "timeframe": "1m"}
    settings = Settings(exchange=venue_settings(fake), market=market)
    no_db: Any = None  # the ccxt branch keeps nothing in the database
    venue = await open_venue(settings, no_db)
    try:
        assert isinstance(venue, CcxtVenue) and venue.api_url == fake.base_url
        stream: Any = venue.stream(settings.market.symbols, "1m")
        update = await anext(stream)
        await stream.aclose()
        assert (
            update.symbol == "BTC/USDT"
            and not update.closed
            and update.row() == fake.candle("BTC/USDT", "1m", update.ts)
        )
    finally:
        await venue.close()
    bad = Settings(exchange=venue_settings(fake), market={**market, "symbols": ["BTC/USDT", "XRP/USDT"]})
    with pytest.raises(errors.NotFound, match="unknown symbol 'XRP/USDT' on binance"):
        await open_venue(bad, no_db)
