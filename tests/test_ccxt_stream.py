"""The ccxt live feed over websockets: ccxt.pro's real Binance client against our fake Binance streams
(``tests/fakes/exchange_ws.py``), with the REST fake (``tests/fakes/exchange.py``) for markets and the
bars the socket missed.

Covers forming and closed updates through ccxt.pro, closes exactly once and in order across symbols
(Binance's final flag, and the newer-bar rule without it), reconnects that fill missed bars from REST,
the fallbacks to polling (disabled, unsupported, repeated failures, then websockets again), the URL
rules (api_url without ws_url opens no websocket; ws_url confines streams), and the daemon's market feed
storing closed bars that came over the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

import ccxt.pro
import pytest
from pydantic import ValidationError

from mastertrade import errors
from mastertrade.config import ExchangeSettings
from mastertrade.engine.market.ccxt_common import WsPolicy
from mastertrade.engine.market.ccxt_stream import BLOCKED_WS_ORIGIN, MAX_FILL_BARS, LiveFeed
from mastertrade.engine.market.ccxt_venue import BlockedRequest, CcxtVenue
from mastertrade.engine.market.venue import CandleUpdate
from tests.fakes.exchange import FAST_CCXT, FakeExchange, Row, serve, venue_settings
from tests.fakes.exchange_ws import FakeBinanceStreams

MINUTE = 60_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
A = T0 + 30 * MINUTE  # the bar forming when a test starts
NOW = A + 15_000
API_KEY = "k3y-abcdef-0123456789"
SECRET = "s3cret-9876543210-fedcba"
PRICES = {"BTC/USDT": 42_000.0, "ETH/USDT": 2_300.0, "SOL/USDT": 100.0}


@pytest.fixture
def fake() -> Iterator[FakeExchange]:
    yield from serve(FakeExchange(PRICES, now=NOW))


@pytest.fixture
async def streams() -> AsyncIterator[FakeBinanceStreams]:
    async with FakeBinanceStreams() as server:
        yield server


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """Every outgoing socket connection and host lookup the process makes during the test."""
    seen: dict[str, list[Any]] = {"connect": [], "lookup": []}
    connect, getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def recording_connect(self: socket.socket, address: Any) -> None:
        seen["connect"].append(address)
        connect(self, address)

    def recording_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        seen["lookup"].append(host)
        return getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    monkeypatch.setattr(socket, "getaddrinfo", recording_getaddrinfo)
    return seen


def make_venue(
    fake: FakeExchange,
    streams: FakeBinanceStreams | None = None,
    *,
    policy: WsPolicy | None = None,
    **settings: Any,
) -> CcxtVenue:
    if streams is not None:
        settings.setdefault("ws_url", streams.url)
    venue = CcxtVenue(ExchangeSettings(**venue_settings(fake, **settings)), options=FAST_CCXT)
    venue.ws_policy = policy or WsPolicy(failures_before_polling=3, retry_after_s=60, idle_timeout_s=5)
    return venue


class Feed:
    """A venue's live feed consumed by a background task into ``updates``."""

    def __init__(
        self,
        venue: CcxtVenue,
        symbols: Sequence[str],
        timeframe: str = "1m",
        *,
        after: dict[str, int] | None = None,
        max_fill_bars: int = MAX_FILL_BARS,
    ) -> None:
        self.updates: list[CandleUpdate] = []
        stream: Any = LiveFeed(venue, symbols, timeframe, after=after, max_fill_bars=max_fill_bars).run()
        self.task = asyncio.create_task(self._consume(stream))

    async def _consume(self, stream: Any) -> None:
        async with contextlib.aclosing(stream) as updates:
            async for update in updates:
                self.updates.append(update)

    def of(self, symbol: str, *, closed: bool | None = None) -> list[CandleUpdate]:
        return [u for u in self.updates if u.symbol == symbol and (closed is None or u.closed == closed)]

    async def until(self, condition: Callable[[], Any], timeout: float = 5.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            if self.task.done():
                self.task.result()  # raises what ended the feed
                raise AssertionError("the feed ended")
            if loop.time() > deadline:
                raise AssertionError(f"condition not met within {timeout}s; updates: {self.updates}")
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


def check_contract(updates: Sequence[CandleUpdate], symbol: str) -> list[int]:
    """Assert the CandleUpdate contract for one symbol; returns the closed bars' open times."""
    closed: list[int] = []
    last: CandleUpdate | None = None
    for update in (u for u in updates if u.symbol == symbol):
        assert not closed or update.ts > closed[-1], f"{update} after the close of {closed[-1]}"
        if update.closed:
            closed.append(update.ts)
        elif last is not None and not last.closed and last.ts == update.ts:
            assert last.row() != update.row(), f"unchanged forming bar emitted twice: {update}"
        last = update
    return closed


async def push(
    streams: FakeBinanceStreams, fake: FakeExchange, symbol: str, ts: int, *, final: bool = False
) -> Row:
    return await streams.bar_from(fake, symbol, "1m", ts, final=final)


async def test_updates_stream_from_the_websocket_through_ccxt_pro(
    fake: FakeExchange, streams: FakeBinanceStreams, connects: dict[str, list[Any]]
) -> None:
    venue = make_venue(fake, streams)
    feed = Feed(venue, ["BTC/USDT"])
    try:
        await streams.wait_subscribed("BTC/USDT", "1m")
        first = await push(streams, fake, "BTC/USDT", A)
        await feed.until(lambda: len(feed.updates) == 1)
        fake.now = A + 40_000
        second = await push(streams, fake, "BTC/USDT", A)
        await feed.until(lambda: len(feed.updates) == 2)
        await push(streams, fake, "BTC/USDT", A)  # the same values again: nothing new to emit
        await asyncio.sleep(0.05)  # (so that ccxt does not merge it into the next message)
        fake.now = A + MINUTE + 1_000
        final = await push(streams, fake, "BTC/USDT", A, final=True)
        # Binance's final flag closes the bar at once, before the next bar begins.
        await feed.until(lambda: len(feed.updates) == 3)
        following = await push(streams, fake, "BTC/USDT", A + MINUTE)
        await feed.until(lambda: len(feed.updates) == 4)
    finally:
        await feed.stop()
        await venue.close()
    assert [(u.ts, u.closed, u.row()) for u in feed.updates] == [
        (A, False, first),
        (A, False, second),
        (A, True, final),
        (A + MINUTE, False, following),
    ]
    assert final == fake.candle("BTC/USDT", "1m", A) and final != second
    # ccxt.pro's own subscription, on ccxt's stream path under ws_url; REST only loaded the markets.
    assert [c.path for c in streams.connections] == ["/ws/0"]
    assert [(s["method"], s["params"]) for s in streams.subscriptions] == [
        ("SUBSCRIBE", ["btcusdt@kline_1m"])
    ]
    assert [r.path for r in fake.requests] == ["/api/v3/exchangeInfo"]
    assert set(connects["connect"]) <= {("127.0.0.1", fake.port), ("127.0.0.1", streams.port)}
    assert ("127.0.0.1", streams.port) in connects["connect"]
    assert set(connects["lookup"]) <= {"127.0.0.1"}


async def test_closed_bars_arrive_once_and_in_order_for_several_symbols(
    fake: FakeExchange, streams: FakeBinanceStreams
) -> None:
    symbols = list(PRICES)
    venue = make_venue(fake, streams)
    feed = Feed(venue, symbols)
    bars = [A + k * MINUTE for k in range(3)]
    try:
        await streams.wait_subscribed(symbols, "1m")
        for ts in bars:
            for second in (20_000, 40_000):
                fake.now = ts + second
                for symbol in symbols:
                    await push(streams, fake, symbol, ts)
            fake.now = ts + MINUTE + 500
            await push(streams, fake, "BTC/USDT", ts, final=True)
            # ETH: the final values without Binance's flag: the bar closes when the next one begins.
            await push(streams, fake, "ETH/USDT", ts)
            # SOL: the final flag twice, then an older bar again: neither is emitted twice.
            await push(streams, fake, "SOL/USDT", ts, final=True)
            await push(streams, fake, "SOL/USDT", ts, final=True)
            await push(streams, fake, "SOL/USDT", bars[0], final=True)
        for symbol in symbols:
            await push(streams, fake, symbol, bars[-1] + MINUTE)
        await feed.until(lambda: all(len(feed.of(s, closed=True)) == 3 for s in symbols))
        await feed.until(lambda: all(feed.of(s)[-1].ts == bars[-1] + MINUTE for s in symbols))
    finally:
        await feed.stop()
        await venue.close()
    for symbol in symbols:
        assert check_contract(feed.updates, symbol) == bars
        assert [u.row() for u in feed.of(symbol, closed=True)] == [
            fake.candle(symbol, "1m", ts) for ts in bars
        ]
    assert not fake.requests_to("/api/v3/klines")  # nothing was missed, so nothing was fetched


async def test_a_dropped_connection_reconnects_and_missed_bars_come_from_rest(
    fake: FakeExchange, streams: FakeBinanceStreams, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mastertrade")
    symbols = ["BTC/USDT", "ETH/USDT"]
    venue = make_venue(fake, streams)
    feed = Feed(venue, symbols)
    try:
        await streams.wait_subscribed(symbols, "1m")
        for symbol in symbols:
            await push(streams, fake, symbol, A)
        await feed.until(lambda: len(feed.updates) == 2)
        # A drop inside the bar: the forming bar goes on over the new connection, nothing fetched.
        assert await streams.drop() == 1
        await streams.wait_subscribed(symbols, "1m", connections=2)
        fake.now = A + 30_000
        for symbol in symbols:
            await push(streams, fake, symbol, A)
        await feed.until(lambda: len(feed.updates) == 4)
        assert not fake.requests_to("/api/v3/klines")
        # A drop across two bar boundaries: A and B closed while the socket was down.
        await streams.drop()
        fake.now = A + 2 * MINUTE + 10_000
        await streams.wait_subscribed(symbols, "1m", connections=3)
        for symbol in symbols:
            await push(streams, fake, symbol, A + 2 * MINUTE)
        await feed.until(lambda: all(feed.of(s)[-1].ts == A + 2 * MINUTE for s in symbols))
    finally:
        await feed.stop()
        await venue.close()
    for symbol in symbols:
        assert check_contract(feed.updates, symbol) == [A, A + MINUTE]
        # The final values from REST, not the last partial ones the socket sent before the drop.
        closed = [u.row() for u in feed.of(symbol, closed=True)]
        assert closed == [fake.candle(symbol, "1m", A), fake.candle(symbol, "1m", A + MINUTE)]
        assert feed.of(symbol)[-1].row() == fake.candle(symbol, "1m", A + 2 * MINUTE)
    klines = fake.requests_to("/api/v3/klines")
    assert sorted((r.params["symbol"], r.params["startTime"]) for r in klines) == [
        ("BTCUSDT", str(A)),
        ("ETHUSDT", str(A)),
    ]
    assert [len(c.streams) for c in streams.connections] == [2, 2, 2]
    assert "websocket NetworkError" in caplog.text and "reconnecting in" in caplog.text
    assert "2 bar(s) missed since 2024-01-01T00:30:00Z filled from REST" in caplog.text


async def test_missed_bars_are_filled_from_rest_pages_shorter_than_asked(
    fake: FakeExchange, streams: FakeBinanceStreams
) -> None:
    """A venue serving fewer bars per page than the feed asks for (Kraken 720, Coinbase 300) is paged
    on until the gap is filled: a short page is not the end of the missed bars."""
    fake.max_rows = 2
    venue = make_venue(fake, streams)
    feed = Feed(venue, ["BTC/USDT"])
    try:
        await streams.wait_subscribed("BTC/USDT", "1m")
        await push(streams, fake, "BTC/USDT", A)
        await feed.until(lambda: len(feed.updates) == 1)
        await streams.drop()
        fake.now = A + 5 * MINUTE + 10_000  # A .. A+4m closed while the socket was down
        await streams.wait_subscribed("BTC/USDT", "1m", connections=2)
        await push(streams, fake, "BTC/USDT", A + 5 * MINUTE)
        await feed.until(lambda: feed.updates[-1].ts == A + 5 * MINUTE)
    finally:
        await feed.stop()
        await venue.close()
    assert check_contract(feed.updates, "BTC/USDT") == [A + i * MINUTE for i in range(5)]
    assert [u.row() for u in feed.of("BTC/USDT", closed=True)] == [
        fake.candle("BTC/USDT", "1m", A + i * MINUTE) for i in range(5)
    ]
    assert [r.params["startTime"] for r in fake.requests_to("/api/v3/klines")] == [
        str(A),
        str(A + 2 * MINUTE),
        str(A + 4 * MINUTE),
    ]


STORED = A - 6 * MINUTE  # the newest bar stored before a restart: the five after it closed meanwhile
MISSED = [STORED + k * MINUTE for k in range(1, 6)]


async def test_a_restart_fills_the_bars_closed_since_the_newest_stored_one(
    fake: FakeExchange, streams: FakeBinanceStreams
) -> None:
    """The feed starts after the newest stored bar: its first bar over the socket finds five bars owed,
    filled from REST (pages shorter than asked) and closed once, in order, before that bar."""
    fake.max_rows = 2
    venue = make_venue(fake, streams)
    feed = Feed(venue, ["BTC/USDT"], after={"BTC/USDT": STORED})
    try:
        await streams.wait_subscribed("BTC/USDT", "1m")
        await push(streams, fake, "BTC/USDT", A)
        await feed.until(lambda: feed.updates and feed.updates[-1].ts == A)
    finally:
        await feed.stop()
        await venue.close()
    assert [(u.ts, u.closed) for u in feed.updates] == [(ts, True) for ts in MISSED] + [(A, False)]
    assert [u.row() for u in feed.of("BTC/USDT", closed=True)] == [
        fake.candle("BTC/USDT", "1m", ts) for ts in MISSED
    ]
    assert [r.params["startTime"] for r in fake.requests_to("/api/v3/klines")] == [
        str(MISSED[0]),
        str(MISSED[2]),
        str(MISSED[4]),
    ]


async def test_a_restart_fills_the_missed_bars_when_polling(fake: FakeExchange) -> None:
    clock = Clock(fake)
    venue = CcxtVenue(ExchangeSettings(**venue_settings(fake)), options=FAST_CCXT, sleep=clock)
    feed = Feed(venue, ["BTC/USDT"], after={"BTC/USDT": STORED})
    try:
        await feed.until(lambda: any(u.ts == A for u in feed.updates))
    finally:
        await feed.stop()
        await venue.close()
    assert check_contract(feed.updates, "BTC/USDT")[:5] == MISSED
    assert [(u.ts, u.closed) for u in feed.updates[:6]] == [(ts, True) for ts in MISSED] + [(A, False)]
    assert [u.row() for u in feed.updates[:5]] == [fake.candle("BTC/USDT", "1m", ts) for ts in MISSED]


async def test_a_gap_longer_than_the_cap_fills_its_newest_bars_and_names_the_rest(
    fake: FakeExchange, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(fake)
    venue = CcxtVenue(ExchangeSettings(**venue_settings(fake)), options=FAST_CCXT, sleep=clock)
    feed = Feed(venue, ["BTC/USDT"], after={"BTC/USDT": STORED}, max_fill_bars=3)
    try:
        await feed.until(lambda: any(u.ts == A for u in feed.updates))
    finally:
        await feed.stop()
        await venue.close()
    assert [(u.ts, u.closed) for u in feed.updates[:4]] == [(ts, True) for ts in MISSED[2:]] + [(A, False)]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "live feed binance BTC/USDT 1m: 5 bars missed from 2024-01-01T00:25:00Z to 2024-01-01T00:29:00Z; "
        "filling the newest 3, the 2 before 2024-01-01T00:27:00Z are left for the data_refresh job "
        "(within [scheduler] repair_window_bars) or `mt data check --repair`"
    ]


async def test_a_bar_the_exchange_never_serves_final_is_left_out_with_a_warning(
    fake: FakeExchange, streams: FakeBinanceStreams, caplog: pytest.LogCaptureFixture
) -> None:
    venue = make_venue(fake, streams)
    feed = Feed(venue, ["BTC/USDT"])
    try:
        await streams.wait_subscribed("BTC/USDT", "1m")
        await push(streams, fake, "BTC/USDT", A)
        await feed.until(lambda: len(feed.updates) == 1)
        await streams.close()  # a clean close from the server (maintenance) reconnects the same way
        fake.remove("BTC/USDT", "1m", A, A + MINUTE)  # an outage cut from the exchange's history
        fake.now = A + 2 * MINUTE + 10_000
        await streams.wait_subscribed("BTC/USDT", "1m", connections=2)
        await push(streams, fake, "BTC/USDT", A + 2 * MINUTE)
        await feed.until(lambda: feed.updates[-1].ts == A + 2 * MINUTE)
    finally:
        await feed.stop()
        await venue.close()
    assert check_contract(feed.updates, "BTC/USDT") == [A + MINUTE]
    assert "the bar at 2024-01-01T00:30:00Z was never served final by the exchange" in caplog.text


async def test_a_silent_connection_is_taken_for_dead(fake: FakeExchange, streams: FakeBinanceStreams) -> None:
    venue = make_venue(fake, streams, policy=WsPolicy(idle_timeout_s=0.2))
    feed = Feed(venue, ["BTC/USDT"])
    try:
        await streams.wait_subscribed("BTC/USDT", "1m", connections=2)
        await push(streams, fake, "BTC/USDT", A)
        await feed.until(lambda: len(feed.updates) == 1)
    finally:
        await feed.stop()
        await venue.close()
    assert not streams.streams()  # the feed's end closed the connection


class Clock:
    """A ``sleep`` for the venue that records pauses, moves the REST fake's clock, and yields."""

    def __init__(self, fake: FakeExchange, step_ms: int = 20_000) -> None:
        self.fake = fake
        self.step_ms = step_ms
        self.pauses: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.fake.now = self.fake.now + self.step_ms
        await asyncio.sleep(0.005)


async def test_polls_when_websockets_are_disabled(fake: FakeExchange, streams: FakeBinanceStreams) -> None:
    clock = Clock(fake)
    venue = CcxtVenue(
        ExchangeSettings(**venue_settings(fake, ws_url=streams.url, websocket=False)),
        options=FAST_CCXT,
        poll_interval_s=7.0,
        sleep=clock,
    )
    assert venue.ws_off == "[exchange] websocket = false" and venue.ws_client() is None
    feed = Feed(venue, ["BTC/USDT"])
    try:
        await feed.until(lambda: len(feed.of("BTC/USDT", closed=True)) == 2)
    finally:
        await feed.stop()
        await venue.close()
    assert check_contract(feed.updates, "BTC/USDT") == [A, A + MINUTE]
    assert set(clock.pauses) == {7.0} and fake.requests_to("/api/v3/klines")
    assert streams.connections == []


async def test_polls_when_the_exchange_has_no_watch_ohlcv(
    fake: FakeExchange, streams: FakeBinanceStreams, monkeypatch: pytest.MonkeyPatch
) -> None:
    describe = ccxt.pro.binance.describe

    def without_watch_ohlcv(self: Any) -> Any:
        described = describe(self)
        described["has"]["watchOHLCV"] = False
        return described

    monkeypatch.setattr(ccxt.pro.binance, "describe", without_watch_ohlcv)
    clock = Clock(fake)
    venue = CcxtVenue(
        ExchangeSettings(**venue_settings(fake, ws_url=streams.url)), options=FAST_CCXT, sleep=clock
    )
    assert venue.ws_off is None  # known only once the client exists
    feed = Feed(venue, ["BTC/USDT"])
    try:
        await feed.until(lambda: len(feed.of("BTC/USDT", closed=True)) == 1)
    finally:
        await feed.stop()
        await venue.close()
    assert venue.ws_off == "ccxt's binance websocket client has no watchOHLCV"
    assert streams.connections == [] and fake.requests_to("/api/v3/klines")


async def test_repeated_websocket_failures_fall_back_to_polling_then_websockets_again(
    fake: FakeExchange, streams: FakeBinanceStreams, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mastertrade")
    symbols = ["BTC/USDT", "ETH/USDT"]
    streams.refuse(2)  # the stream host is down for the first two handshakes
    clock = Clock(fake, step_ms=20_000)  # each pause moves the exchange's clock by 20 s
    venue = CcxtVenue(
        ExchangeSettings(**venue_settings(fake, ws_url=streams.url)),
        options=FAST_CCXT,
        poll_interval_s=0.5,
        sleep=clock,
    )
    venue.ws_policy = WsPolicy(failures_before_polling=2, retry_after_s=1.0, idle_timeout_s=5)
    feed = Feed(venue, symbols)
    try:
        await streams.wait_subscribed(symbols, "1m")
        polled = list(feed.updates)
        # Back on the socket in bar B: A closed while the feed was polling, so it comes from REST.
        for symbol in symbols:
            await push(streams, fake, symbol, A + MINUTE)
        await feed.until(lambda: all(feed.of(s)[-1].ts == A + MINUTE for s in symbols))
    finally:
        await feed.stop()
        await venue.close()
    assert streams.refused == 2 and len(streams.connections) == 1
    # One reconnect pause after the first failure, then two polling rounds (retry_after_s over
    # poll_interval_s) that kept the symbols' forming bars coming until the websocket was back.
    assert len(clock.pauses) == 3 and clock.pauses[0] < 0.5 and clock.pauses[1:] == [0.5, 0.5]
    assert [(u.symbol, u.ts, u.closed) for u in polled] == [(s, A, False) for s in symbols] * 2
    for symbol in symbols:
        assert check_contract(feed.updates, symbol) == [A]
        assert feed.of(symbol, closed=True)[0].row() == fake.candle(symbol, "1m", A)
        assert feed.of(symbol)[-1].row() == fake.candle(symbol, "1m", A + MINUTE)
    assert "websocket failed 2 times in a row" in caplog.text and "trying websockets again" in caplog.text


async def test_api_url_without_ws_url_never_opens_a_websocket(
    fake: FakeExchange, streams: FakeBinanceStreams, connects: dict[str, list[Any]]
) -> None:
    clock = Clock(fake)
    venue = CcxtVenue(ExchangeSettings(**venue_settings(fake)), options=FAST_CCXT, sleep=clock)
    assert venue.ws_off == "[exchange] api_url is set without ws_url" and venue.ws_client() is None
    feed = Feed(venue, ["BTC/USDT", "ETH/USDT"])
    try:
        await feed.until(lambda: len(feed.updates) >= 4)
    finally:
        await feed.stop()
        await venue.close()
    assert streams.connections == []
    assert connects["connect"] and set(connects["connect"]) == {("127.0.0.1", fake.port)}
    assert set(connects["lookup"]) <= {"127.0.0.1"}


async def test_ws_url_confines_the_keyless_websocket_client(
    fake: FakeExchange, streams: FakeBinanceStreams, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    venue = make_venue(fake, streams, api_key=API_KEY, secret=SECRET)
    try:
        client = venue.ws_client()
        assert client is not None and client is venue.ws_client()
        assert not client.apiKey and not client.secret and venue.exchange.apiKey == API_KEY
        ws = client.urls["api"]["ws"]
        assert ws["spot"] == ws["margin"] == streams.url
        others = [ws[family] for family in ws if family not in ("spot", "margin", "ws-api")]
        others += ws["ws-api"].values()
        assert others and all(url.startswith(BLOCKED_WS_ORIGIN + "/") for url in others)
        with pytest.raises(BlockedRequest, match=r"refused websocket wss://stream.binance.com:9443/ws/0"):
            client.client("wss://stream.binance.com:9443/ws/0")
        with pytest.raises(BlockedRequest):  # a look-alike sharing the prefix is no exception
            client.client(streams.url + "x/0")
        # Its REST side is confined to api_url like the venue's own client.
        assert client.urls["api"]["public"] == fake.base_url + "/api/v3"
        with pytest.raises(BlockedRequest):
            await client.sapi_get_system_status()
        feed = Feed(venue, ["BTC/USDT"])
        try:
            await streams.wait_subscribed("BTC/USDT", "1m")
            await push(streams, fake, "BTC/USDT", A)
            await feed.until(lambda: len(feed.updates) == 1)
        finally:
            await feed.stop()
    finally:
        await venue.close()
    assert API_KEY not in caplog.text and SECRET not in caplog.text
    with pytest.raises(errors.UserInputError, match=r"invalid \[exchange\] ws_url"):
        CcxtVenue(ExchangeSettings(ws_url="ws://127.0.0.1:9/ws?x=1"))
    for url in ("http://127.0.0.1:9/ws", "127.0.0.1:9"):  # refused with the settings themselves
        with pytest.raises(ValidationError, match="expected a wss:// or ws:// URL"):
            ExchangeSettings(ws_url=url)


async def test_the_daemon_market_feed_stores_closed_candles_from_the_websocket(
    db_url: str, fake: FakeExchange, streams: FakeBinanceStreams
) -> None:
    from mastertrade.engine.events import CandleClosed
    from mastertrade.engine.market.store import SeriesKey
    from tests.daemon.conftest import configure, core_daemon
    from tests.daemon.fakes import closed_ts, wait_for

    symbols = ["BTC/USDT", "ETH/USDT"]
    settings = configure(
        market={"venue": "ccxt", "symbols": symbols, "timeframe": "1m"},
        daemon={"restart_backoff_s": 0.01, "stop_timeout_s": 2},
    )
    venue = make_venue(fake, streams)
    daemon = core_daemon(settings, venue=venue, serve_api=False)
    ctx = await daemon.start()
    try:
        events = ctx.bus.subscribe({"candle"})
        await streams.wait_subscribed(symbols, "1m")
        for symbol in symbols:
            await push(streams, fake, symbol, A)
        fake.now = A + MINUTE + 1_000
        for symbol in symbols:
            await push(streams, fake, symbol, A, final=True)
            await push(streams, fake, symbol, A + MINUTE)
        await wait_for(lambda: all(closed_ts(ctx, s) == A for s in symbols))
        for symbol in symbols:
            frame = await ctx.candles.read(SeriesKey("binance", symbol, "1m"))
            stored = [
                (int(t.timestamp() * 1000), *map(float, row))
                for t, row in zip(frame.index, frame.values, strict=True)
            ]
            assert stored == [fake.candle(symbol, "1m", A)]
        announced = []
        while (event := events.get_nowait()) is not None:
            if isinstance(event, CandleClosed):
                announced.append((event.symbol, event.ts))
        assert sorted(announced) == [(s, A) for s in symbols]
    finally:
        await daemon.stop()
    assert not streams.streams()  # stopping the daemon closed the venue and its socket


async def test_the_daemon_market_feed_stores_the_bars_closed_while_it_was_down(
    db_url: str, fake: FakeExchange, streams: FakeBinanceStreams
) -> None:
    """Stored up to T, the daemon starts with the exchange at T+5 bars: T+1..T+5 are stored once each and
    announced in order, before the bar forming now."""
    from mastertrade.db.database import Database
    from mastertrade.engine.events import CandleClosed
    from mastertrade.engine.market.store import CandleStore, SeriesKey
    from tests.daemon.conftest import configure, core_daemon
    from tests.daemon.fakes import closed_ts, wait_for

    settings = configure(market={"venue": "ccxt", "symbols": ["BTC/USDT"], "timeframe": "1m"})
    key = SeriesKey("binance", "BTC/USDT", "1m")
    before = fake.closed_candles("BTC/USDT", "1m", STORED - 2 * MINUTE, STORED + MINUTE)
    db = await Database.open(settings)
    try:
        await CandleStore(db).upsert(key, before)
    finally:
        await db.close()
    venue = make_venue(fake, streams)
    daemon = core_daemon(settings, venue=venue, serve_api=False)
    ctx = await daemon.start()
    try:
        events = ctx.bus.subscribe({"candle"})
        await streams.wait_subscribed("BTC/USDT", "1m")
        await push(streams, fake, "BTC/USDT", A)
        await wait_for(lambda: closed_ts(ctx, "BTC/USDT") == MISSED[-1])
        frame = await ctx.candles.read(key)
        stored = [
            (int(t.timestamp() * 1000), *map(float, row))
            for t, row in zip(frame.index, frame.values, strict=True)
        ]
        announced = []
        while (event := events.get_nowait()) is not None:
            if isinstance(event, CandleClosed):
                announced.append(event.ts)
    finally:
        await daemon.stop()
    assert stored == before + [fake.candle("BTC/USDT", "1m", ts) for ts in MISSED]
    assert announced == MISSED
