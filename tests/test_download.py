"""``download``: paginated, resumable history downloads from the fake exchange into the store
(SQLite always, Postgres with MT_TEST_POSTGRES_URL), through the real ccxt client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

import pytest

from mastertrade import errors
from mastertrade.config import ExchangeSettings
from mastertrade.engine.candle import CandleRow
from mastertrade.engine.market.ccxt_venue import CcxtVenue
from mastertrade.engine.market.download import DownloadProgress, download
from mastertrade.engine.market.store import CandleStore, SeriesKey, rows_from_frame
from mastertrade.engine.market.timeframes import floor_ts, timeframe_ms, to_iso
from mastertrade.engine.market.venue import CandleUpdate
from tests.conftest import MT
from tests.fakes.exchange import FAST_CCXT, FakeExchange, serve, serve_configured, venue_settings

HOUR = 3_600_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
NOW = T0 + 350 * HOUR + 30 * 60_000  # bar 350 is forming
KEY = SeriesKey("binance", "BTC/USDT", "1h")
KLINES = "/api/v3/klines"


@pytest.fixture
def fake() -> Iterator[FakeExchange]:
    yield from serve(FakeExchange({"BTC/USDT": 42_000.0}, now=NOW))


@pytest.fixture
async def venue(fake: FakeExchange) -> AsyncIterator[CcxtVenue]:
    venue = CcxtVenue(ExchangeSettings(**venue_settings(fake)), options=FAST_CCXT)
    try:
        yield venue
    finally:
        await venue.close()


async def stored(store: CandleStore, key: SeriesKey = KEY) -> list[CandleRow]:
    return rows_from_frame(await store.read(key))


def starts(fake: FakeExchange) -> list[int]:
    return [int(request.params["startTime"]) for request in fake.requests_to(KLINES)]


async def run(store: CandleStore, venue: Any, fake: FakeExchange, **kwargs: Any) -> Any:
    options: dict[str, Any] = {"page_limit": 100, "now": lambda: fake.now}
    options.update(kwargs)
    since = options.pop("since", T0)
    until = options.pop("until", None)
    return await download(store, venue, "BTC/USDT", "1h", since, until, **options)


async def test_paginates_over_several_pages_and_skips_the_forming_bar(
    database: Any, venue: CcxtVenue, fake: FakeExchange
) -> None:
    store = CandleStore(database)
    seen: list[DownloadProgress] = []
    summary = await run(store, venue, fake, progress=seen.append)
    expected = fake.closed_candles("BTC/USDT", "1h", T0, NOW)
    assert len(expected) == 350
    assert await stored(store) == expected  # bit-exact, the forming bar at T0 + 350h left out
    assert starts(fake) == [T0, T0 + 100 * HOUR, T0 + 200 * HOUR, T0 + 300 * HOUR]
    assert all(request.params["limit"] == "100" for request in fake.requests_to(KLINES))
    assert (summary.fetched, summary.stored, summary.new, summary.requests, summary.retries) == (
        351,
        350,
        350,
        4,
        0,
    )
    assert (summary.first, summary.last) == (T0, T0 + 349 * HOUR)
    assert [p.done for p in seen] == [100, 200, 300, 351, 351] and seen[-1].total == 351
    document = summary.as_dict()
    assert document["series"] == "binance:BTC/USDT:1h" and document["last"] == "2024-01-15T13:00:00Z"


async def test_a_429_storm_then_success(database: Any, venue: CcxtVenue, fake: FakeExchange) -> None:
    store = CandleStore(database)
    fake.fail(429, times=3, path=KLINES, after=1)
    summary = await run(store, venue, fake)
    assert await stored(store) == fake.closed_candles("BTC/USDT", "1h", T0, NOW)
    assert summary.retries == 3 and summary.requests == 4
    assert starts(fake) == [T0] + [T0 + 100 * HOUR] * 4 + [T0 + 200 * HOUR, T0 + 300 * HOUR]


async def test_a_server_error_in_the_middle_is_retried(
    database: Any, venue: CcxtVenue, fake: FakeExchange
) -> None:
    store = CandleStore(database)
    fake.fail(503, times=1, path=KLINES, after=2, body="Service Unavailable")
    fake.fail(500, times=1, path=KLINES, after=2)
    summary = await run(store, venue, fake)
    assert await stored(store) == fake.closed_candles("BTC/USDT", "1h", T0, NOW)
    assert summary.retries == 2 and fake.pending_faults() == 0


async def test_an_interrupted_download_resumes_without_duplicates(
    database: Any, venue: CcxtVenue, fake: FakeExchange
) -> None:
    store = CandleStore(database)
    venue.retry.max_retries = 1
    fake.fail(503, times=2, path=KLINES, after=2)  # page 3 fails beyond the retry budget
    with pytest.raises(errors.VenueUnavailable):
        await run(store, venue, fake)
    kept = await stored(store)
    assert [row[0] for row in kept] == [T0 + i * HOUR for i in range(200)]  # the first two pages stayed
    last = kept[-1]
    fake.override(
        "BTC/USDT", "1h", (last[0], last[1], last[2] * 1.01, last[3], last[4] * 1.005, last[5] + 1)
    )  # the exchange corrected its last bar since
    fake.clear_log()

    summary = await run(store, venue, fake)
    assert summary.resumed_from == last[0] and starts(fake)[0] == last[0]  # the last bar is fetched again
    rows = await stored(store)
    assert rows == fake.closed_candles("BTC/USDT", "1h", T0, NOW)  # as one full download gives
    assert (
        rows[199] == fake.candle("BTC/USDT", "1h", last[0]) != last
        and len({row[0] for row in rows}) == len(rows) == 350
    )
    assert summary.new == 150 and summary.stored == 151
    # Run again once the forming bar has closed: one request, one new bar, nothing doubled.
    fake.now = NOW + HOUR
    fake.clear_log()
    again = await run(store, venue, fake)
    assert starts(fake) == [T0 + 349 * HOUR] and again.new == 1
    assert (await store.info(KEY)).rows == 351
    assert (await stored(store))[-1] == fake.candle("BTC/USDT", "1h", T0 + 350 * HOUR)


async def test_a_local_clock_ahead_of_the_exchange_never_stores_its_forming_bar(
    database: Any, venue: CcxtVenue, fake: FakeExchange
) -> None:
    """Our clock 40 minutes fast: by it bar 350 has closed, but on the exchange (whose /time says
    NOW) it is still forming and served partial; only the exchange's clock may close it."""
    store = CandleStore(database)
    fast = NOW + 40 * 60_000
    summary = await run(store, venue, fake, now=lambda: fast)
    assert await stored(store) == fake.closed_candles("BTC/USDT", "1h", T0, NOW)
    assert summary.last == T0 + 349 * HOUR and not summary.notes
    assert len(fake.requests_to("/api/v3/time")) == 1
    # A clock behind the exchange's is the stricter one: the bar that closed by the exchange's
    # clock but not by ours waits for the next run.
    fake.now = NOW + HOUR
    fake.clear_log()
    again = await run(store, venue, fake, now=lambda: NOW + 10 * 60_000)
    assert again.new == 0 and (await stored(store))[-1][0] == T0 + 349 * HOUR


async def test_until_is_respected(database: Any, venue: CcxtVenue, fake: FakeExchange) -> None:
    store = CandleStore(database)
    until = T0 + 120 * HOUR
    summary = await run(store, venue, fake, until=until)
    assert await stored(store) == fake.closed_candles("BTC/USDT", "1h", T0, until)
    assert starts(fake) == [T0, T0 + 100 * HOUR] and summary.last == until - HOUR
    with pytest.raises(errors.UserInputError, match="is not after since"):
        await run(store, venue, fake, until=T0)


async def test_a_request_before_the_stored_range_fetches_only_the_head(
    database: Any, venue: CcxtVenue, fake: FakeExchange
) -> None:
    store = CandleStore(database)
    await run(store, venue, fake, since=T0 + 150 * HOUR)
    fake.clear_log()
    summary = await run(store, venue, fake)
    assert await stored(store) == fake.closed_candles("BTC/USDT", "1h", T0, NOW)
    # head: T0, T0+100h (stops at the stored first bar); tail: from the stored last bar
    assert starts(fake) == [T0, T0 + 100 * HOUR, T0 + 349 * HOUR]
    assert summary.new == 150


class Windowed:
    """A venue that serves at most ``cap`` rows per call and only from [since, since + limit bars),
    like exchanges whose pages are time windows (so a long outage yields empty pages)."""

    def __init__(self, inner: CcxtVenue, cap: int) -> None:
        self.inner = inner
        self.cap = cap
        self.calls = 0

    @property
    def id(self) -> str:
        return self.inner.id

    @property
    def simulated(self) -> bool:
        return False

    async def fetch_ohlcv(self, symbol: str, timeframe: str, since: int, limit: int) -> list[CandleRow]:
        self.calls += 1
        window_end = since + limit * timeframe_ms(timeframe)
        rows = await self.inner.fetch_ohlcv(symbol, timeframe, since, limit)
        return [row for row in rows if row[0] < window_end][: self.cap]

    def stream(
        self, symbols: Sequence[str], timeframe: str, *, after: Mapping[str, int] | None = None
    ) -> AsyncIterator[CandleUpdate]:
        raise NotImplementedError

    async def close(self) -> None:
        await self.inner.close()


async def test_short_and_empty_pages_do_not_end_the_download(
    database: Any, venue: CcxtVenue, fake: FakeExchange
) -> None:
    store = CandleStore(database)
    outage = (T0 + 40 * HOUR, T0 + 190 * HOUR)  # longer than a 100-bar page
    fake.remove("BTC/USDT", "1h", *outage)
    windowed = Windowed(venue, cap=37)
    summary = await run(store, windowed, fake)
    expected = [
        row for row in fake.closed_candles("BTC/USDT", "1h", T0, NOW) if not outage[0] <= row[0] < outage[1]
    ]
    assert await stored(store) == expected
    assert summary.empty_pages >= 1 and summary.requests == windowed.calls


async def test_empty_pages_in_a_row_give_up_with_a_note(database: Any, fake: FakeExchange) -> None:
    class Empty(Windowed):
        async def fetch_ohlcv(self, symbol: str, timeframe: str, since: int, limit: int) -> list[CandleRow]:
            self.calls += 1
            return []

    async with CcxtVenue(ExchangeSettings(**venue_settings(fake)), options=FAST_CCXT) as inner:
        empty = Empty(inner, cap=0)
        summary = await run(CandleStore(database), empty, fake, max_empty_pages=3, page_limit=10)
    assert empty.calls == 3 and summary.stored == 0 and "gave up after 3 empty pages" in summary.notes[0]


# -- mt data download ------------------------------------------------------------------------------


@pytest.fixture
def cli_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeExchange]:
    """The fake on the real clock, configured as the CLI's [exchange] (MT_EXCHANGE__API_URL ...)."""
    yield from serve_configured(
        FakeExchange({"BTC/USDT": 42_000.0, "ETH/USDT": 2_300.0}), monkeypatch, page_limit=100
    )


def window(fake: FakeExchange, bars: int) -> tuple[int, int]:
    """A range of ``bars`` closed hourly bars ending well before the fake's (real) clock."""
    until = floor_ts(fake.now, "1h") - 5 * HOUR
    return until - bars * HOUR, until


def load(key: SeriesKey) -> list[CandleRow]:
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database

    async def read() -> list[CandleRow]:
        db = await Database.open(load_settings())
        try:
            return rows_from_frame(await CandleStore(db).read(key))
        finally:
            await db.close()

    return asyncio.run(read())


def test_mt_data_download_fetches_stores_and_resumes(mt: MT, db_url: str, cli_fake: FakeExchange) -> None:
    since, until = window(cli_fake, 250)
    cli_fake.fail(429, times=2, path=KLINES, after=1)
    args = ["data", "download", "BTC/USDT", "ETH/USDT", "--timeframe", "1h", "--since", to_iso(since)]
    report = mt.json(*args, "--until", to_iso(until))
    assert [r["series"] for r in report] == ["binance:BTC/USDT:1h", "binance:ETH/USDT:1h"]
    assert [(r["new"], r["requests"], r["retries"]) for r in report] == [(250, 3, 2), (250, 3, 0)]
    assert report[0]["first"] == to_iso(since) and report[0]["last"] == to_iso(until - HOUR)
    for symbol in ("BTC/USDT", "ETH/USDT"):
        assert load(SeriesKey("binance", symbol, "1h")) == cli_fake.closed_candles(symbol, "1h", since, until)
    assert {r.header("Host") for r in cli_fake.requests} == {f"127.0.0.1:{cli_fake.port}"}

    cli_fake.clear_log()
    again = mt.json(*args, "--until", to_iso(until), "--exchange", "binance")
    assert [(r["new"], r["requests"], r["resumed_from"]) for r in again] == [(0, 1, to_iso(until - HOUR))] * 2
    assert [r.params["startTime"] for r in cli_fake.requests_to(KLINES)] == [str(until - HOUR)] * 2

    result = mt(*args, "--until", to_iso(until + 2 * HOUR))
    assert result.exit_code == 0, result.stderr
    assert "binance:BTC/USDT:1h" in result.stdout and "binance:ETH/USDT:1h" in result.stdout
    listed = mt.json("data", "list")
    assert [(s["symbol"], s["rows"]) for s in listed] == [("BTC/USDT", 252), ("ETH/USDT", 252)]


def test_mt_data_download_stores_the_exchanges_spelling_of_a_symbol_typed_in_any_case(
    mt: MT, db_url: str, cli_fake: FakeExchange
) -> None:
    """`btc/usdt` is the exchange's BTC/USDT: one series, and typing it twice downloads it once."""
    since, until = window(cli_fake, 5)
    args = ["data", "download", "btc/usdt", "Btc/Usdt", "--timeframe", "1h", "--since", to_iso(since)]
    report = mt.json(*args, "--until", to_iso(until))
    assert [(r["series"], r["new"]) for r in report] == [("binance:BTC/USDT:1h", 5)]
    assert [(s["symbol"], s["rows"]) for s in mt.json("data", "list")] == [("BTC/USDT", 5)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["BTC/XXX", "--since", "2024-01-01"], "unknown symbol 'BTC/XXX' on binance"),
        (["btc/xxx", "--since", "2024-01-01"], "unknown symbol 'btc/xxx' on binance"),
        (["BTC/USDT", "ETH/XXX", "--since", "2024-01-01"], "unknown symbol 'ETH/XXX' on binance"),
        (["BTC/USDT", "--since", "yesterday"], "invalid --since date 'yesterday'"),
        (["BTC/USDT", "--since", "2024-01-01", "--until", "soon"], "invalid --until date 'soon'"),
        (["BTC/USDT", "--since", "2024-02-01", "--until", "2024-01-01"], "invalid --until '2024-01-01'"),
        # a year typed wrong downloaded nothing and said nothing
        (
            ["BTC/USDT", "--since", "2999-01-01"],
            "invalid --since '2999-01-01': 2999-01-01T00:00:00Z is in the future",
        ),
        (["BTC/USDT", "--since", "2024-01-01", "--timeframe", "7x"], "invalid timeframe '7x'"),
        (
            ["BTC/USDT", "--since", "2024-01-01", "--timeframe", "7m"],
            "timeframe '7m' is not offered by binance",
        ),
        (["BTC/USDT", "--since", "2024-01-01", "--exchange", "nope"], "unknown exchange 'nope'"),
    ],
)
def test_mt_data_download_bad_input(mt: MT, cli_fake: FakeExchange, args: list[str], message: str) -> None:
    # (on the default SQLite database only: nothing here depends on the engine)
    result = mt("data", "download", *args)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith("mt: error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr
    assert cli_fake.requests_to(KLINES) == []  # checked before anything was fetched or written
    assert mt.json("data", "list") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["", "--since", "2024-01-01"], "invalid symbol '': expected BASE/QUOTE"),
        (["  ", "--since", "2024-01-01"], "invalid symbol '  ': expected BASE/QUOTE"),
        (["BTC/USDT", "BTCUSDT", "--since", "2024-01-01"], "invalid symbol 'BTCUSDT': expected BASE/QUOTE"),
        (["BTC//USDT", "--since", "2024-01-01"], "invalid symbol 'BTC//USDT': one slash"),
        (["BTC/USDT", "--since", "yesterday"], "invalid --since date 'yesterday'"),
        (["BTC/USDT", "--since", "2024-01-01", "--timeframe", "60m"], "--timeframe 60m: write it as 1h"),
        (["BTC/USDT", "--since", "2024-01-01", "--timeframe", "7m"], "timeframe '7m' is not offered"),
    ],
)
def test_mt_data_download_judges_what_it_can_before_asking_the_exchange_anything(
    mt: MT, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    """Bad input is refused at once, without a request: an empty symbol waited through every retry of an
    unreachable exchange (about 30 s with the defaults) before the network error was all it said."""
    with FakeExchange() as fake:
        monkeypatch.setenv("MT_EXCHANGE__API_URL", fake.base_url)
        result = mt("data", "download", *args)
        assert fake.requests == []  # not even the exchange's market list
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith("mt: error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr


def test_mt_data_download_unreachable_venue_fails(mt: MT, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeExchange() as gone:
        url = gone.base_url  # a port nothing listens on once the fake stops
    monkeypatch.setenv("MT_EXCHANGE__API_URL", url)
    monkeypatch.setenv("MT_EXCHANGE__MAX_RETRIES", "1")
    monkeypatch.setenv("MT_EXCHANGE__BACKOFF_S", "0.01")
    result = mt("data", "download", "BTC/USDT", "--since", "2024-01-01")
    assert result.exit_code == 1
    assert "binance load_markets: venue unavailable after 1 retry" in result.stderr


def test_mt_data_download_names_the_bars_the_exchange_skipped(
    mt: MT, db_url: str, cli_fake: FakeExchange
) -> None:
    since, until = window(cli_fake, 250)
    cli_fake.remove("BTC/USDT", "1h", since + 120 * HOUR, since + 132 * HOUR)  # 12 bars, inside a page
    cli_fake.remove("BTC/USDT", "1h", since + 199 * HOUR, since + 201 * HOUR)  # 2 bars across a page end
    args = ["data", "download", "BTC/USDT", "--timeframe", "1h", "--since", to_iso(since)]
    (report,) = mt.json(*args, "--until", to_iso(until))
    assert report["new"] == 236 and report["missing"] == 14 and report["gap_count"] == 2
    assert report["gaps"] == [
        {"start": to_iso(since + 120 * HOUR), "end": to_iso(since + 131 * HOUR)},
        {"start": to_iso(since + 199 * HOUR), "end": to_iso(since + 200 * HOUR)},
    ]
    result = mt(*args, "--until", to_iso(until), "--exchange", "binance")
    assert result.exit_code == 0, result.stderr
    assert "missing" not in result.stderr  # the re-run resumed after the gaps: nothing new was skipped
    cli_fake.remove("BTC/USDT", "1h", until + HOUR, until + 2 * HOUR)
    result = mt(*args, "--until", to_iso(until + 4 * HOUR))
    assert result.exit_code == 0, result.stderr
    assert (
        f"binance:BTC/USDT:1h: 1 bars missing in 1 gap(s) the exchange served no bars for (the first "
        f"{to_iso(until + HOUR)} .. {to_iso(until + HOUR)}): `mt data check --repair` asks again"
    ) in " ".join(result.stderr.split())


def test_mt_data_download_says_when_the_exchange_has_no_bars_that_far_back(
    mt: MT, db_url: str, cli_fake: FakeExchange
) -> None:
    """The fake lists its markets from 2020-01-01: a range before that stores nothing, one that starts
    before it stores from there, and both say so instead of passing a cut range for the one asked."""
    args = ["data", "download", "BTC/USDT", "--timeframe", "1d", "--json"]
    (before,) = mt.json(*args, "--since", "2015-01-01", "--until", "2016-01-01")
    assert before["new"] == 0 and before["notes"] == [
        "no bars from 2015-01-01T00:00:00Z to 2016-01-01T00:00:00Z: the exchange's first bar after"
        " 2015-01-01T00:00:00Z opens at 2020-01-01T00:00:00Z"
    ]
    (across,) = mt.json(*args, "--since", "2019-12-01", "--until", "2020-01-03")
    assert across["new"] == 2 and across["first"] == "2020-01-01T00:00:00Z"
    assert across["notes"] == [
        "the exchange has no bars before 2020-01-01T00:00:00Z (asked from 2019-12-01T00:00:00Z)"
    ]
    (inside,) = mt.json(*args, "--since", "2020-01-05T12:00:00Z", "--until", "2020-01-08")
    assert inside["new"] == 2 and inside["notes"] == []  # the first whole day after since: no cut
