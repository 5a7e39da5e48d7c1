"""The live feed of a ``CcxtVenue``: the exchange's websocket streams where ccxt has them, REST polling
otherwise.

**One contract, two transports.** Whatever carries the data, the updates keep ``CandleUpdate``'s
contract, enforced per symbol by ``Bars``: a forming bar is emitted when it changes; every bar is emitted
``closed=True`` exactly once and in order, when a newer bar appears or the exchange marks it final; a bar
that closed is never emitted again. ``Bars`` outlives the transports, so switching between them
(websocket, polling, websocket again) neither repeats nor skips a bar.

**Websockets** (ccxt.pro ``watch_ohlcv``, one task per symbol on one connection) are used when
``[exchange] websocket`` is on, ccxt has a websocket client with ``watchOHLCV`` for the exchange, and the
URL rules allow it (``ccxt_venue``: with api_url set, websockets go only to ws_url, and stay off without
it). The client is a second ccxt instance, without keys (market streams are public), sharing the REST
client's markets. What ccxt.pro needed:

- *finality*: ccxt's candle cache drops Binance's ``x`` flag (the bar is final). The client's
  ``handle_ohlcv`` is wrapped to remember each stream's newest final bar, so a bar closes the moment the
  exchange says so, not when the next one begins (exchanges without such a flag: the newer-bar rule).
- *no stale rows*: ccxt keeps its candle cache across reconnects, so each connection starts with the
  symbol's cache cleared: every row a session sees came over that session's connection.
- *gaps*: when a connection's first bar is newer than the bar held as forming, the bars in between (the
  forming one included: its final values never arrived) are fetched from REST (``fetch_ohlcv``, page
  after page, however short the venue's pages) and closed before going on. Within one connection, a
  newer bar closes the forming one with the last values the socket sent for it.

A connection that drops, errors or stays silent for ``WsPolicy.idle_timeout_s`` ends the session, and
the feed reconnects after the venue's backoff (``backoff_s`` doubling up to ``backoff_max_s``). After
``WsPolicy.failures_before_polling`` sessions in a row that failed before delivering anything, it logs so
and polls REST for ``WsPolicy.retry_after_s``, then tries websockets again. It publishes nothing extra:
the daemon's service states and alerts already cover a feed that fails.

**Polling** asks REST every ``poll_interval_s`` seconds for each symbol's bars from the oldest one still
owed a close; while no bar is forming (at start, or after a bar the socket saw final) it asks for the
newest bars and fills the gap before them the same way. A poll that fails after the retry policy gave
up is logged and tried again at the next interval; until a poll works again the venue keeps since when
and why (``feed_trouble``), which ``mt status`` shows beside the symbol. Fatal errors (a bad symbol, a
refused key) end the stream on either transport.

**Restarts.** ``after`` holds each symbol's newest stored bar (the daemon's market feed reads it), and
``Bars`` starts from it: the first bar the feed sees, on either transport, finds the bars closed while
the daemon was down owed, and they are filled from REST as above, closed in order before that bar. A gap
longer than ``max_fill_bars`` is filled for its newest ``max_fill_bars`` bars only (one warning names
the rest, for the data_refresh job or ``mt data check --repair``): a feed down for months should not
hold up the live bars.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import ccxt.async_support as ccxt_async

from mastertrade import errors
from mastertrade.engine.candle import Candle, CandleRow
from mastertrade.engine.market.ccxt_common import BlockedRequest, candle_row, within
from mastertrade.engine.market.retry import map_error
from mastertrade.engine.market.timeframes import now_ms, timeframe_ms, to_iso
from mastertrade.engine.market.venue import CandleUpdate

if TYPE_CHECKING:
    from mastertrade.engine.market.ccxt_common import FeedVenue

log = logging.getLogger(__name__)

# The websocket families a ws_url replaces (Binance: spot and margin; most others: public); every other
# family points at an address that cannot resolve.
WS_MAIN_FAMILIES = ("spot", "margin", "public")
BLOCKED_WS_ORIGIN = "wss://blocked.invalid"

Emit = Callable[[CandleUpdate], None]

MAX_FILL_BARS = 10_000
"""The most bars one gap is filled with live (ten Binance pages: a week of 1m bars, a year of 1h)."""


class Bars:
    """What the feed emitted for one symbol: the newest closed bar and the bar forming after it."""

    def __init__(self, symbol: str, timeframe: str) -> None:
        self.symbol = symbol
        self.timeframe = timeframe
        self.step = timeframe_ms(timeframe)
        self.closed_ts: int | None = None
        self.forming: CandleRow | None = None

    def owed_from(self) -> int | None:
        """The open time of the oldest bar not yet emitted closed (None before the first bar)."""
        if self.forming is not None:
            return self.forming[0]
        if self.closed_ts is not None:
            return self.closed_ts + self.step
        return None

    def close(self, row: CandleRow) -> CandleUpdate | None:
        """``row`` as a final bar: its update, or None when that bar closed already."""
        if self.closed_ts is not None and row[0] <= self.closed_ts:
            return None
        self._give_up_forming_before(row[0])
        if self.forming is not None and self.forming[0] == row[0]:
            self.forming = None
        self.closed_ts = row[0]
        return self._update(row, closed=True)

    def form(self, row: CandleRow) -> CandleUpdate | None:
        """``row`` as the bar forming now: its update, or None when it closed already or is unchanged."""
        if self.closed_ts is not None and row[0] <= self.closed_ts:
            return None
        if self.forming is not None and (row[0] < self.forming[0] or row == self.forming):
            return None
        self._give_up_forming_before(row[0])
        self.forming = row
        return self._update(row, closed=False)

    def skip_before(self, ts: int) -> None:
        """Owe no bar before ``ts``: the older part of a gap too long to fill live (already logged)."""
        if self.forming is not None and self.forming[0] < ts:
            self.forming = None
        if self.closed_ts is None or self.closed_ts < ts - self.step:
            self.closed_ts = ts - self.step

    def _give_up_forming_before(self, ts: int) -> None:
        # Callers close the forming bar before a newer one whenever the exchange serves it; when it does
        # not (an outage the exchange cut from its history), there is no final version to emit.
        if self.forming is not None and self.forming[0] < ts:
            log.warning(
                "live feed %s %s: the bar at %s was never served final by the exchange; it is left out",
                self.symbol,
                self.timeframe,
                to_iso(self.forming[0]),
            )
            self.forming = None

    def _update(self, row: CandleRow, *, closed: bool) -> CandleUpdate:
        return CandleUpdate(self.symbol, self.timeframe, Candle.from_row(row), closed)


class _SessionFailed(Exception):
    """A websocket session ended by trouble worth a reconnect (not by a fatal error)."""


class LiveFeed:
    """The live feed of ``venue`` for ``symbols`` (see the module docstring); iterate ``run()``.
    ``after``: each symbol's newest stored bar, the feed's first bar is the one after it."""

    def __init__(
        self,
        venue: FeedVenue,
        symbols: Sequence[str],
        timeframe: str,
        *,
        after: Mapping[str, int] | None = None,
        max_fill_bars: int = MAX_FILL_BARS,
    ) -> None:
        self.venue = venue
        self.symbols = list(symbols)
        self.timeframe = timeframe
        self.after = dict(after or {})
        self.max_fill_bars = max_fill_bars
        self.policy = venue.ws_policy

    async def run(self) -> AsyncGenerator[CandleUpdate]:
        bars = {symbol: Bars(symbol, self.timeframe) for symbol in self.symbols}
        for symbol, stored in self.after.items():
            if symbol in bars:
                bars[symbol].closed_ts = stored
        venue = self.venue
        client = venue.ws_client()
        if client is None:
            log.info(
                "live feed %s: polling REST every %gs (%s)", venue.id, venue.poll_interval_s, venue.ws_off
            )
            async with contextlib.aclosing(self._polling(bars, None)) as updates:
                async for update in updates:
                    yield update
            return
        rounds = max(1, math.ceil(self.policy.retry_after_s / venue.poll_interval_s))
        while True:
            async with contextlib.aclosing(self._websocket(client, bars)) as updates:
                async for update in updates:
                    yield update
            async with contextlib.aclosing(self._polling(bars, rounds)) as updates:
                async for update in updates:
                    yield update
            log.info("live feed %s: trying websockets again", venue.id)

    # -- polling ---------------------------------------------------------------------------------

    async def _polling(self, bars: dict[str, Bars], rounds: int | None) -> AsyncGenerator[CandleUpdate]:
        """Poll every symbol ``rounds`` times (None: forever), ``poll_interval_s`` apart."""
        done = 0
        while rounds is None or done < rounds:
            for symbol in self.symbols:
                # Updates are yielded even when the poll failed half-way: ``Bars`` recorded them.
                updates: list[CandleUpdate] = []
                trouble = self.venue.feed_trouble
                try:
                    await self._poll(bars[symbol], updates.append)
                except errors.RetryableError as exc:
                    since = trouble[symbol][0] if symbol in trouble else now_ms()
                    trouble[symbol] = (since, str(exc))
                    log.warning(
                        "live feed %s %s: %s; next poll in %gs",
                        symbol,
                        self.timeframe,
                        exc,
                        self.venue.poll_interval_s,
                    )
                else:
                    trouble.pop(symbol, None)
                for update in updates:
                    yield update
            done += 1
            await self.venue.sleep(self.venue.poll_interval_s)

    async def _poll(self, bars: Bars, emit: Emit) -> None:
        # Rows by open time, one per bar (an exchange's last copy wins): a repeated or out-of-order
        # forming bar must not pass for a closed one by sitting before another row.
        if bars.forming is None:
            # The latest bars by the exchange's clock, not ours: the last one is the forming bar, and
            # the bars owed before it (closed while the feed was stopped) are filled first.
            rows = _in_order(await self.venue.fetch_rows(bars.symbol, self.timeframe, None, 2))
            if not rows:
                return
            start = bars.owed_from()
            if start is not None and start < rows[-1][0]:
                await self._backfill(bars, start, rows[-1][0], emit)
            _emit(emit, bars.form(rows[-1]))
            return
        start = bars.forming[0]
        rows = _in_order(
            await self.venue.fetch_rows(bars.symbol, self.timeframe, start, self.venue.page_limit),
            start,
        )
        for row in rows[:-1]:
            _emit(emit, bars.close(row))
        if rows:
            _emit(emit, bars.form(rows[-1]))

    # -- websockets ------------------------------------------------------------------------------

    async def _websocket(self, client: Any, bars: dict[str, Bars]) -> AsyncGenerator[CandleUpdate]:
        """Websocket sessions, reconnecting after a backoff, until too many in a row failed."""
        venue = self.venue
        failures = 0
        while True:
            delivered = False
            try:
                async with contextlib.aclosing(self._session(client, bars)) as updates:
                    async for update in updates:
                        delivered = True
                        yield update
            except _SessionFailed as exc:
                failures = 1 if delivered else failures + 1
                if failures >= self.policy.failures_before_polling:
                    log.warning(
                        "live feed %s: websocket failed %d times in a row (%s); polling REST every %gs "
                        "and trying websockets again in %gs",
                        venue.id,
                        failures,
                        exc,
                        venue.poll_interval_s,
                        self.policy.retry_after_s,
                    )
                    return
                pause = venue.retry.delay(failures)
                log.warning("live feed %s: websocket %s; reconnecting in %.2fs", venue.id, exc, pause)
                await venue.sleep(pause)

    async def _session(self, client: Any, bars: dict[str, Bars]) -> AsyncGenerator[CandleUpdate]:
        """One connection: a watcher task per symbol feeding a queue. Raises ``_SessionFailed`` when the
        connection fails, and a watcher's fatal error as it is."""
        try:
            await self.venue.load_markets()
        except errors.RetryableError as exc:
            raise _SessionFailed(f"markets unavailable: {exc}") from exc
        if client.markets is None:
            client.set_markets_from_exchange(self.venue.exchange)
        # Unbounded, so that putting never waits: an update leaves its watcher in the same step that
        # recorded it in ``Bars``, and cancelling a watcher can never lose one.
        queue: asyncio.Queue[CandleUpdate | BaseException] = asyncio.Queue()
        watchers = [
            asyncio.create_task(self._watcher(client, bars[symbol], queue), name=f"ws {symbol}")
            for symbol in self.symbols
        ]
        try:
            while True:
                item = await queue.get()
                if isinstance(item, CandleUpdate):
                    yield item
                    continue
                await _stop(watchers)
                while not queue.empty():  # what the other watchers emitted meanwhile
                    left = queue.get_nowait()
                    if isinstance(left, CandleUpdate):
                        yield left
                raise item
        finally:
            await _stop(watchers)
            await client.close_ws_clients()

    async def _watcher(
        self, client: Any, bars: Bars, queue: asyncio.Queue[CandleUpdate | BaseException]
    ) -> None:
        try:
            await self._watch(client, bars, queue.put_nowait)
        except Exception as exc:  # handed to the session, which ends on it
            queue.put_nowait(exc)

    async def _watch(self, client: Any, bars: Bars, emit: Emit) -> None:
        symbol, timeframe = bars.symbol, self.timeframe
        try:
            market_id = client.market(symbol)["id"]
        except ccxt_async.BaseError as exc:  # a symbol the exchange does not list
            raise map_error(exc, f"{self.venue.id} watch_ohlcv {symbol}") from exc
        final_key = (market_id, (client.timeframes or {}).get(timeframe, timeframe))
        cache = getattr(client, "ohlcvs", None)
        if isinstance(cache, dict) and isinstance(cache.get(symbol), dict):
            cache[symbol].pop(timeframe, None)
        seen: int | None = None  # the bar this connection last sent for the symbol
        while True:
            try:
                async with asyncio.timeout(self.policy.idle_timeout_s):
                    raw = await client.watch_ohlcv(symbol, timeframe)
            except TimeoutError as exc:
                raise _SessionFailed(f"silent for {self.policy.idle_timeout_s:g}s on {symbol}") from exc
            except (ccxt_async.BaseError, errors.OperationFailed) as exc:  # OperationFailed: the URL guard
                raise _SessionFailed(f"{type(exc).__name__}: {exc}") from exc
            rows = sorted(row for row in (candle_row(item) for item in raw) if row is not None)
            final_ts = client._mt_final.get(final_key)
            for row in rows:
                final = final_ts is not None and row[0] <= final_ts
                await self._apply(
                    bars,
                    row,
                    final=final,
                    live=bars.forming is not None and seen == bars.forming[0],
                    emit=emit,
                )
                seen = row[0]

    async def _apply(self, bars: Bars, row: CandleRow, *, final: bool, live: bool, emit: Emit) -> None:
        """One bar as the socket sent it; ``live`` says the forming bar's values came over this connection."""
        ts = row[0]
        forming = bars.forming
        if bars.closed_ts is not None and ts <= bars.closed_ts:
            return
        if forming is not None and ts < forming[0]:
            return
        if forming is not None and ts > forming[0] and live:
            _emit(emit, bars.close(forming))  # a newer bar began: the last values sent were final
        start = bars.owed_from()
        if start is not None and start < ts:
            try:
                await self._backfill(bars, start, ts, emit)
            except errors.RetryableError as exc:
                raise _SessionFailed(f"filling missed bars from REST failed: {exc}") from exc
        _emit(emit, bars.close(row) if final else bars.form(row))

    async def _backfill(self, bars: Bars, start: int, end: int, emit: Emit) -> None:
        """Close every bar opening in [start, end) from REST: bars whose final values the feed missed
        (a dropped socket, a stopped daemon). Only the newest ``max_fill_bars`` of a longer gap."""
        newest = end - self.max_fill_bars * bars.step
        if start < newest:
            log.warning(
                "live feed %s %s %s: %d bars missed from %s to %s; filling the newest %d, the %d before "
                "%s are left for the data_refresh job (within [scheduler] repair_window_bars) or "
                "`mt data check --repair`",
                self.venue.id,
                bars.symbol,
                self.timeframe,
                (end - start) // bars.step,
                to_iso(start),
                to_iso(end - bars.step),
                self.max_fill_bars,
                (newest - start) // bars.step,
                to_iso(newest),
            )
            bars.skip_before(newest)
            start = newest
        since, filled = start, 0
        limit = self.venue.page_limit
        while since < end:
            page = await self.venue.fetch_ohlcv(bars.symbol, self.timeframe, since, limit)
            newer = sorted(row for row in page if row[0] >= since)
            for row in newer:
                if row[0] < end:
                    update = bars.close(row)
                    filled += update is not None
                    _emit(emit, update)
            # A page shorter than asked is not the end: many venues serve fewer bars per call than
            # the limit. Only a page with nothing new, or one that reached ``end``, stops the filling.
            if not newer or newer[-1][0] + bars.step >= end:
                break
            since = newer[-1][0] + bars.step
        log.info(
            "live feed %s %s %s: %d bar(s) missed since %s filled from REST",
            self.venue.id,
            bars.symbol,
            self.timeframe,
            filled,
            to_iso(start),
        )


def _in_order(rows: Sequence[CandleRow], start: int | None = None) -> list[CandleRow]:
    """``rows`` sorted by open time, one per bar (the last one served), none before ``start``."""
    return sorted({row[0]: row for row in rows if start is None or row[0] >= start}.values())


def _emit(emit: Emit, update: CandleUpdate | None) -> None:
    if update is not None:
        emit(update)


async def _stop(tasks: Sequence[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# -- the ccxt.pro client -------------------------------------------------------------------------


def ws_client_class(base: type[Any], ws_url: str | None) -> type[Any]:
    """A subclass of the ccxt.pro exchange class ``base`` for the live feed: it remembers which bars
    the exchange marked final, and with ``ws_url`` set it opens websockets to that address only."""

    class Streams(base):  # type: ignore[misc]
        _mt_ws_url = ws_url

        def __init__(self, config: dict[str, Any]) -> None:
            super().__init__(config)
            self._mt_final: dict[tuple[str, str], int] = {}
            """The newest bar marked final per (market id, interval)."""

        def client(self, url: str) -> Any:
            allowed = self._mt_ws_url
            if allowed is not None and not within(url, allowed):
                raise BlockedRequest(
                    f"refused websocket {url.split('?', 1)[0]}: [exchange] ws_url is set, so streams may "
                    f"only go to {allowed}"
                )
            return super().client(url)

        def is_spot_url(self, client: Any) -> bool:
            # Binance tells spot from futures streams by its host names; ws_url stands in for spot.
            if self._mt_ws_url is not None and within(client.url, self._mt_ws_url):
                return True
            return bool(super().is_spot_url(client))

        def handle_ohlcv(self, client: Any, message: Any) -> Any:
            result = super().handle_ohlcv(client, message)
            kline = message.get("k") if isinstance(message, dict) else None
            if isinstance(kline, dict) and kline.get("x") is True and isinstance(kline.get("t"), int):
                key = (str(kline.get("s")), str(kline.get("i")))
                self._mt_final[key] = max(kline["t"], self._mt_final.get(key, kline["t"]))
            return result

    Streams.__name__ = Streams.__qualname__ = base.__name__
    return Streams


def rebase_ws(exchange: Any, ws_url: str) -> None:
    """Point the exchange's main websocket families at ``ws_url`` and the others at
    ``BLOCKED_WS_ORIGIN`` (the ``client`` guard of ``ws_client_class`` refuses them anyway)."""

    def blocked(node: Any, family: str) -> Any:
        if isinstance(node, dict):
            return {key: blocked(value, f"{family}/{key}") for key, value in node.items()}
        if isinstance(node, str):
            return BLOCKED_WS_ORIGIN + family + urlsplit(node).path
        return node

    api = exchange.urls.get("api")
    if not isinstance(api, dict):
        return
    ws = api.get("ws")
    if isinstance(ws, str):
        api["ws"] = ws_url
    elif isinstance(ws, dict):
        api["ws"] = {
            key: ws_url if key in WS_MAIN_FAMILIES and isinstance(value, str) else blocked(value, f"/{key}")
            for key, value in ws.items()
        }
