"""Fakes for the daemon tests: a venue fed by the test, a notification receiver on 127.0.0.1, a
notifier that records, and a daemon running in a background thread (for CLI tests)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from mastertrade.engine.alerts.delivery import TargetResult
from mastertrade.engine.alerts.masking import mask_target
from mastertrade.engine.candle import Candle, CandleRow
from mastertrade.engine.market.venue import CandleUpdate

HOUR = 3_600_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


class FakeVenue:
    """A venue whose live feed is whatever the test pushes (``push``, ``bar``), or an error (``fail``)."""

    def __init__(self, venue_id: str = "fake", simulated: bool = True) -> None:
        self._id = venue_id
        self._simulated = simulated
        self.queue: asyncio.Queue[CandleUpdate | BaseException] = asyncio.Queue()
        self.history: dict[str, list[CandleRow]] = {}
        self.fetches = 0
        self.streams = 0
        self.after: list[dict[str, int]] = []
        """What each stream was asked to start after (the newest stored bar per symbol)."""
        self.closed = False

    @property
    def id(self) -> str:
        return self._id

    @property
    def simulated(self) -> bool:
        return self._simulated

    async def fetch_ohlcv(self, symbol: str, timeframe: str, since: int, limit: int) -> list[CandleRow]:
        self.fetches += 1
        return [row for row in self.history.get(symbol, []) if row[0] >= since][:limit]

    async def stream(
        self, symbols: Sequence[str], timeframe: str, *, after: Mapping[str, int] | None = None
    ) -> AsyncIterator[CandleUpdate]:
        self.streams += 1
        self.after.append(dict(after or {}))
        while True:
            item = await self.queue.get()
            if isinstance(item, BaseException):
                raise item
            yield item

    def push(self, update: CandleUpdate) -> None:
        self.queue.put_nowait(update)

    def bar(self, symbol: str, ts: int, close: float, *, closed: bool = False, timeframe: str = "1h") -> None:
        self.push(
            CandleUpdate(
                symbol, timeframe, Candle(ts, close, close * 1.01, close * 0.99, close, 10.0), closed
            )
        )

    def fail(self, error: BaseException) -> None:
        self.queue.put_nowait(error)

    async def close(self) -> None:
        self.closed = True


@dataclass
class RecordingNotifier:
    """A notifier that records what it was asked to send; ``fail_next`` makes the next sends fail."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    failures: int = 0

    async def send(
        self, urls: Sequence[tuple[int, str]], title: str, body: str, severity: str
    ) -> list[TargetResult]:
        ok = self.failures <= 0
        self.failures -= 1
        self.sent.append(
            {"urls": [url for _, url in urls], "title": title, "body": body, "severity": severity}
        )
        return [
            TargetResult(index, mask_target(url), ok, None if ok else "receiver said no")
            for index, url in urls
        ]

    def close(self) -> None:
        pass


class Receiver:
    """An HTTP server on 127.0.0.1 that collects Apprise ``json://`` notifications.

    ``statuses`` is a list of status codes to answer, in order, before answering 200.
    """

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    if status == 200:
                        receiver.received.append({"path": self.path, **json.loads(body or b"{}")})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


async def wait_for(condition: Callable[[], Any], timeout: float = 30.0, interval: float = 0.01) -> Any:
    """Poll ``condition`` until it is truthy (returns its value), or fail after ``timeout`` seconds. It
    returns as soon as the condition holds: the generous default only keeps a loaded CI machine from failing
    a test whose event comes late."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = condition()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


async def eventually(check: Callable[[], Any], timeout: float = 30.0, interval: float = 0.01) -> Any:
    """Like ``wait_for`` for an async check: ``await eventually(lambda: store.count())``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


def closed_ts(ctx: Any, symbol: str) -> int | None:
    """The last closed bar the market feed stored for ``symbol`` (None before it saw one)."""
    last = ctx.state.last_candles.get(symbol)
    return last.closed_ts if last is not None else None
