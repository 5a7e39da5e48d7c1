"""Download candle history from a venue into the store, page by page, resumably.

``download`` walks forward from ``since`` with ``fetch_ohlcv`` pages of ``page_limit`` candles and
upserts each page as it arrives, so an interrupted download keeps what it got and a re-run never
duplicates. When the series already covers ``since``, it resumes from its last stored candle (fetching
that bar again, because it may have been stored from a page that ended early). The bar still forming
is never stored: a stored candle is a final one. A bar counts as closed only when its close time has
passed by our clock *and* by the exchange's (``server_time``, when the venue has one): a local clock
running ahead would otherwise take the exchange's forming bar, served partial, for a final one.

It copes with venues that page differently: a page shorter than the limit is not taken as the end
(some exchanges serve fewer rows than asked); an empty page skips ahead one page width while the range
is not exhausted (some serve a window from ``since`` and a gap can empty it), at most
``max_empty_pages`` times in a row.

Bars the exchange skipped between two bars it served (an outage, a delisted hour) are counted and named
(``missing``, ``gaps`` and a note): the download succeeds, but the holes are not passed over in silence;
``mt data check --repair`` (or the daemon's data_refresh job) asks for them again later. A range that
starts before the exchange's first bar (a market listed later, an exchange keeping less history) is cut
to what exists, and a note says from when, or that the range holds no bar at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from mastertrade.engine.candle import CandleRow
from mastertrade.engine.market.store import CandleStore, SeriesKey
from mastertrade.engine.market.timeframes import now_ms, timeframe_ms, to_iso
from mastertrade.engine.market.venue import Venue
from mastertrade.errors import UserInputError

DEFAULT_PAGE_LIMIT = 1000
MAX_EMPTY_PAGES = 10
MAX_LISTED_GAPS = 100


@runtime_checkable
class CountsRetries(Protocol):
    """A venue that counts the retries its calls needed (``CcxtVenue`` does)."""

    retries: int


@runtime_checkable
class KnowsServerTime(Protocol):
    """A venue that can tell the exchange's clock (``CcxtVenue`` does, where ccxt has ``fetchTime``)."""

    async def server_time(self) -> int | None: ...


@dataclass(frozen=True)
class DownloadProgress:
    """Where a download stands: ``done`` of ``total`` bars of the requested range are behind it."""

    key: SeriesKey
    done: int
    total: int
    fetched: int
    requests: int


@dataclass
class DownloadSummary:
    """What one download did. ``first``/``last`` are the first and last candle it stored (epoch ms)."""

    key: SeriesKey
    since: int
    until: int | None
    fetched: int = 0
    stored: int = 0
    new: int = 0
    replaced: int = 0
    """With ``refetch``: stored bars the exchange now serves differently, replaced by its version."""
    first: int | None = None
    last: int | None = None
    requests: int = 0
    retries: int = 0
    empty_pages: int = 0
    resumed_from: int | None = None
    missing: int = 0
    gap_count: int = 0
    gaps: list[tuple[int, int]] = field(default_factory=list)
    """First and last open time of each run of bars the exchange skipped (inclusive): the first
    ``MAX_LISTED_GAPS`` of ``gap_count`` (an illiquid market's minutes can have thousands)."""
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "series": str(self.key),
            "exchange": self.key.exchange,
            "symbol": self.key.symbol,
            "timeframe": self.key.timeframe,
            "since": to_iso(self.since),
            "until": to_iso(self.until) if self.until is not None else None,
            "resumed_from": to_iso(self.resumed_from) if self.resumed_from is not None else None,
            "fetched": self.fetched,
            "stored": self.stored,
            "new": self.new,
            "replaced": self.replaced,
            "first": to_iso(self.first) if self.first is not None else None,
            "last": to_iso(self.last) if self.last is not None else None,
            "requests": self.requests,
            "retries": self.retries,
            "empty_pages": self.empty_pages,
            "missing": self.missing,
            "gap_count": self.gap_count,
            "gaps": [{"start": to_iso(start), "end": to_iso(end)} for start, end in self.gaps],
            "notes": self.notes,
        }


async def download(
    store: CandleStore,
    venue: Venue,
    symbol: str,
    timeframe: str,
    since: int,
    until: int | None = None,
    *,
    progress: Callable[[DownloadProgress], None] | None = None,
    page_limit: int = DEFAULT_PAGE_LIMIT,
    resume: bool = True,
    max_empty_pages: int = MAX_EMPTY_PAGES,
    now: Callable[[], int] = now_ms,
    refetch: bool = False,
) -> DownloadSummary:
    """Fetch the closed candles of ``symbol`` with ``since <= ts < until`` into ``store``.

    ``until`` defaults to now. With ``resume`` (the default) a series that already holds ``since``
    continues from its last stored candle; ``resume=False`` fetches the whole range (used to fill
    gaps). Candles are stored under ``SeriesKey(venue.id, symbol, timeframe)``.

    ``refetch`` (``mt data download --refetch``) asks for the whole range again although it is stored,
    compares each served bar with the stored one and replaces those the exchange has changed since,
    counting them (``replaced``) and saying so in a note; bars outside the range are not touched.
    """
    if refetch:
        resume = False
    step = timeframe_ms(timeframe)
    if page_limit < 1:
        raise UserInputError(f"invalid page limit {page_limit}: must be >= 1")
    if until is not None and until <= since:
        raise UserInputError(f"invalid range: until {to_iso(until)} is not after since {to_iso(since)}")
    key = SeriesKey(venue.id, symbol, timeframe)
    summary = DownloadSummary(key, since, until)
    retries_before = venue.retries if isinstance(venue, CountsRetries) else 0
    info = await store.info(key)
    rows_before = info.rows

    cutoff = now()
    if isinstance(venue, KnowsServerTime):
        exchange_now = await venue.server_time()
        if exchange_now is not None:
            cutoff = min(cutoff, exchange_now)
    end = cutoff if until is None else min(until, cutoff)
    segments = [(since, end)]
    if resume and info.first is not None and info.last is not None and info.last >= since:
        # Continue after what is stored; fetch a head before it only if the request starts earlier
        # (one request when the market simply did not exist yet).
        segments = [(since, min(info.first, end))] if info.first > since else []
        segments.append((info.last, end))
        summary.resumed_from = info.last
    total = max(0, -(-(end - since) // step))

    def report(cursor: int) -> None:
        if progress is not None:
            done = max(0, min(total, -(-(cursor - since) // step)))
            progress(DownloadProgress(key, done, total, summary.fetched, summary.requests))

    earliest: int | None = None  # the first bar served from ``since`` on: later than it when history is short
    for first, stop in segments:
        cursor = first
        empty_in_row = 0
        previous: int | None = None  # the last bar stored in this segment: a hole after it is a gap
        while cursor < stop:
            rows = await venue.fetch_ohlcv(symbol, timeframe, cursor, page_limit)
            summary.requests += 1
            rows = sorted({row[0]: row for row in rows if row[0] >= cursor}.values())
            if not rows:
                summary.empty_pages += 1
                empty_in_row += 1
                if empty_in_row >= max_empty_pages:
                    summary.notes.append(f"gave up after {empty_in_row} empty pages at {to_iso(cursor)}")
                    break
                cursor += page_limit * step
                continue
            empty_in_row = 0
            if first == since and earliest is None:
                earliest = rows[0][0]
            summary.fetched += len(rows)
            kept = [row for row in rows if row[0] < stop and row[0] + step <= cutoff]
            for row in kept:
                if previous is not None and row[0] - previous > step:
                    summary.gap_count += 1
                    summary.missing += (row[0] - previous) // step - 1
                    if len(summary.gaps) < MAX_LISTED_GAPS:
                        summary.gaps.append((previous + step, row[0] - step))
                previous = row[0]
            if refetch and rows_before:
                summary.replaced += await _differing(store, key, kept, step)
            await _store(store, key, kept, summary)
            cursor = rows[-1][0] + step
            report(cursor)
            if cursor > cutoff:
                break  # reached the forming bar: nothing newer exists yet
    report(end)
    head_end = segments[0][1] if segments and segments[0][0] == since else None
    if earliest is not None and head_end is not None and earliest - since >= step:
        if earliest >= head_end:
            summary.notes.append(
                f"no bars from {to_iso(since)} to {to_iso(head_end)}: the exchange's first bar after"
                f" {to_iso(since)} opens at {to_iso(earliest)}"
            )
        else:
            summary.notes.append(
                f"the exchange has no bars before {to_iso(earliest)} (asked from {to_iso(since)})"
            )
    if summary.gaps:
        first_gap = summary.gaps[0]
        summary.notes.append(
            f"{summary.missing:,} bars missing in {summary.gap_count:,} gap(s) the exchange served no bars"
            f" for (the first {to_iso(first_gap[0])} .. {to_iso(first_gap[1])}):"
            " `mt data check --repair` asks again"
        )

    summary.new = (await store.info(key)).rows - rows_before
    if refetch:
        summary.notes.append(
            f"{summary.replaced:,} stored bars differed from the exchange's and were replaced"
            f" (refetched {to_iso(since)} .. {to_iso(end)})"
        )
    if isinstance(venue, CountsRetries):
        summary.retries = venue.retries - retries_before
    return summary


async def _differing(store: CandleStore, key: SeriesKey, rows: list[CandleRow], step: int) -> int:
    """How many of ``rows`` are stored with other values (a bar not stored yet is new, not differing)."""
    if not rows:
        return 0
    matrix = await store.read_matrix(key, rows[0][0], rows[-1][0] + step)
    stored = {int(matrix[i, 0]): tuple(float(value) for value in matrix[i, 1:]) for i in range(len(matrix))}
    return sum(
        1
        for row in rows
        if int(row[0]) in stored and stored[int(row[0])] != tuple(float(value) for value in row[1:])
    )


async def _store(store: CandleStore, key: SeriesKey, rows: list[CandleRow], summary: DownloadSummary) -> None:
    if not rows:
        return
    await store.upsert(key, rows)
    summary.stored += len(rows)
    if summary.first is None:
        summary.first = rows[0][0]
    summary.last = rows[-1][0]
