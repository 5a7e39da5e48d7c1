"""A small Binance-compatible exchange on 127.0.0.1, for driving the real ccxt client in tests.

``FakeExchange`` serves the spot REST endpoints the market-data code uses (``/api/v3/exchangeInfo``,
``/api/v3/klines``, ``/api/v3/time``, ``/api/v3/ping``) from a threaded stdlib HTTP server, with:

- **Deterministic candles** for every listed symbol and Binance interval: each bar is a pure function of
  (symbol, interval, open time), so any range can be served without storing history, and the bar that
  is still forming at the fake's clock (``now``) is served in a partial version that differs from its
  final one. Tests can override single bars (``override``) and cut outages (``remove``).
- **Binance's klines semantics**: ``startTime``/``endTime`` bound the open time (inclusive), ``limit``
  defaults to 500 and may not exceed 1000, ``startTime`` alone pages forward, ``endTime`` alone (or
  neither) returns the latest bars. Setting ``max_rows`` makes it serve fewer bars than asked, as venues
  with a smaller page do (Kraken 720, Coinbase 300).
- **Fault injection**: answer a status (429, 418, 500, 503 ...) for the next N matching requests,
  optionally after letting some through (``fail(503, after=2)`` fails the third klines call of a
  download); ``hang`` (never answers, for ``RequestTimeout``); ``drop`` (closes the connection).
- **A request log**: every request's method, path, query/form parameters, headers and body.

Extending it (the trading tests will): add endpoints with ``route(method, path, handler)`` from a
subclass's ``__init__``; a handler gets the ``Recorded`` request and returns a ``Reply``. Faults and the
log apply to every route alike.

    with FakeExchange({"BTC/USDT": 42_000.0}, now=T0) as fake:
        fake.fail(429, times=3, path="/api/v3/klines")
        ... ccxt binance with urls['api']['public'] = fake.base_url + "/api/v3" ...
        assert all(r.path == "/api/v3/klines" for r in fake.requests[1:])
"""

from __future__ import annotations

import hashlib
import json
import math
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from mastertrade.engine.market.timeframes import now_ms, timeframe_ms

Row = tuple[int, float, float, float, float, float]

BINANCE_INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w")
DEFAULT_LISTED = 1_577_836_800_000  # 2020-01-01T00:00:00Z: bars exist from here on
DEFAULT_LIMIT = 500
MAX_LIMIT = 1000
_TWO_PI = 2 * math.pi
_WAVE_MS = 30 * 86_400_000


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: str

    def header(self, name: str) -> str | None:
        """A header by case-insensitive name."""
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)


@dataclass(frozen=True)
class Reply:
    """What a route answers: a status, a JSON-serialisable body (or text) and extra headers."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    """A misbehaviour for the next ``times`` requests matching ``path`` (any path when None), after
    letting ``after`` matching requests through."""

    kind: Literal["status", "hang", "drop"]
    status: int = 500
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    path: str | None = None
    times: int = 1
    after: int = 0

    def matches(self, path: str) -> bool:
        return self.path is None or self.path == path


Handler = Callable[[Recorded], Reply]


def binance_error(code: int, msg: str) -> dict[str, Any]:
    return {"code": code, "msg": msg}


def market_id(symbol: str) -> str:
    return symbol.replace("/", "")


class FakeExchange:
    """A Binance-compatible spot REST API served from a background thread (see the module docstring)."""

    def __init__(
        self,
        symbols: Mapping[str, float] | None = None,
        *,
        now: int | None = None,
        listed: int = DEFAULT_LISTED,
        hang_s: float = 10.0,
    ) -> None:
        self.prices = dict(symbols or {"BTC/USDT": 42_000.0, "ETH/USDT": 2_300.0})
        self.listed = listed
        self.hang_s = hang_s
        self.max_rows: int | None = None
        """At most this many bars per klines answer, whatever the limit (None: the limit)."""
        self._now = now
        self._lock = threading.Lock()
        self._log: list[Recorded] = []
        self._faults: list[Fault] = []
        self._overrides: dict[tuple[str, str, int], Row] = {}
        self._outages: list[tuple[str, str, int, int]] = []
        self._routes: dict[tuple[str, str], Handler] = {}
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.route("GET", "/api/v3/ping", lambda _: Reply(200, {}))
        self.route("GET", "/api/v3/time", lambda _: Reply(200, {"serverTime": self.now}))
        self.route("GET", "/api/v3/exchangeInfo", self._exchange_info)
        self.route("GET", "/api/v3/klines", self._klines)

    # -- life cycle ------------------------------------------------------------------------------

    def start(self) -> FakeExchange:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        server.daemon_threads = True
        self._server = server
        self._release.clear()
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="fake-exchange", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()  # wake hanging handlers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeExchange:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the fake first"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """The origin to point a client at, e.g. ``http://127.0.0.1:54321`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    # -- the clock -------------------------------------------------------------------------------

    @property
    def now(self) -> int:
        """The fake's clock in epoch ms: fixed when set, else the real time."""
        return self._now if self._now is not None else now_ms()

    @now.setter
    def now(self, value: int | None) -> None:
        self._now = value

    # -- the request log -------------------------------------------------------------------------

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._log)

    def requests_to(self, path: str) -> list[Recorded]:
        return [request for request in self.requests if request.path == path]

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    # -- routes and faults -----------------------------------------------------------------------

    def route(self, method: str, path: str, handler: Handler) -> None:
        """Serve ``method path`` with ``handler`` (replaces an existing route)."""
        self._routes[(method.upper(), path)] = handler

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def fail(
        self,
        status: int,
        *,
        times: int = 1,
        path: str | None = None,
        after: int = 0,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer ``status`` to the next ``times`` matching requests (429/418 get Binance's body and a
        ``Retry-After: 0`` header unless given: a test that wants a wait sets its own)."""
        if body is None and status in (418, 429):
            body = binance_error(-1003, "Too many requests; please use the websocket for live updates.")
            headers = {"Retry-After": "0", **(headers or {})}
        self.inject(Fault("status", status, body, headers or {}, path, times, after))

    def hang(self, *, times: int = 1, path: str | None = None, after: int = 0) -> None:
        """Never answer the next ``times`` matching requests (the connection closes after ``hang_s``)."""
        self.inject(Fault("hang", path=path, times=times, after=after))

    def drop(self, *, times: int = 1, path: str | None = None, after: int = 0) -> None:
        """Close the connection of the next ``times`` matching requests without an answer."""
        self.inject(Fault("drop", path=path, times=times, after=after))

    def pending_faults(self) -> int:
        with self._lock:
            return sum(fault.times for fault in self._faults)

    def _next_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times <= 0 or not fault.matches(path):
                    continue
                if fault.after > 0:
                    fault.after -= 1
                    continue
                fault.times -= 1
                return fault
            return None

    # -- the market ------------------------------------------------------------------------------

    def override(self, symbol: str, interval: str, row: Row) -> None:
        """Serve ``row`` (final and forming) for the bar opening at ``row[0]``, its prices rounded
        to the 8 decimals the wire carries."""
        rounded: Row = (row[0], *_wire(row[1:]))  # type: ignore[assignment]
        with self._lock:
            self._overrides[(symbol, interval, row[0])] = rounded

    def remove(self, symbol: str, interval: str, start: int, end: int) -> None:
        """An outage: bars opening in [start, end) do not exist on this exchange."""
        with self._lock:
            self._outages.append((symbol, interval, start, end))

    def candle(self, symbol: str, interval: str, ts: int) -> Row | None:
        """The bar opening at ``ts`` as served now (partial while forming), or None if none exists."""
        step = timeframe_ms(interval)
        now = self.now
        if ts % step or ts < self.listed or ts > now or self._missing(symbol, interval, ts):
            return None
        with self._lock:
            overridden = self._overrides.get((symbol, interval, ts))
        if overridden is not None:
            return overridden
        return self._bar(symbol, interval, ts, min(1.0, (now - ts) / step))

    def closed_candles(self, symbol: str, interval: str, start: int, end: int) -> list[Row]:
        """Every closed bar opening in [start, end), as the store should hold them after a download."""
        step = timeframe_ms(interval)
        ts = max(start, self.listed)
        ts += -ts % step
        rows = []
        while ts < end and ts + step <= self.now:
            row = self.candle(symbol, interval, ts)
            if row is not None:
                rows.append(row)
            ts += step
        return rows

    def _missing(self, symbol: str, interval: str, ts: int) -> bool:
        with self._lock:
            return any(
                s == symbol and i == interval and start <= ts < end for s, i, start, end in self._outages
            )

    def _noise(self, symbol: str, interval: str, ts: int, k: int) -> float:
        digest = hashlib.blake2b(f"{symbol}|{interval}|{ts}|{k}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64

    def _close(self, symbol: str, interval: str, ts: int) -> float:
        wave = 0.05 * math.sin(_TWO_PI * ts / _WAVE_MS)
        return self.prices[symbol] * math.exp(wave + 0.004 * (self._noise(symbol, interval, ts, 0) - 0.5))

    def _bar(self, symbol: str, interval: str, ts: int, done: float) -> Row:
        """The bar at ``ts`` when the fraction ``done`` of it has passed (1.0: final)."""
        step = timeframe_ms(interval)
        o = self._close(symbol, interval, ts - step)
        c = o + (self._close(symbol, interval, ts) - o) * done
        h = max(o, c) * (1 + 0.002 * self._noise(symbol, interval, ts, 1) * done)
        low = min(o, c) * (1 - 0.002 * self._noise(symbol, interval, ts, 2) * done)
        v = 50 * (0.5 + self._noise(symbol, interval, ts, 3)) * done
        # What a client parses back from the 8-decimal strings Binance sends (rounding is monotonic,
        # so low <= open, close <= high survives it).
        return (ts, *_wire((o, h, low, c, v)))  # type: ignore[return-value]

    def _symbol_of(self, market: str) -> str | None:
        return next((symbol for symbol in self.prices if market_id(symbol) == market), None)

    def _exchange_info(self, request: Recorded) -> Reply:
        return Reply(200, exchange_info(self.prices, self.now))

    def _klines(self, request: Recorded) -> Reply:
        params = request.params
        symbol = self._symbol_of(params.get("symbol", ""))
        if symbol is None:
            return Reply(400, binance_error(-1121, "Invalid symbol."))
        interval = params.get("interval", "")
        if interval not in BINANCE_INTERVALS:
            return Reply(400, binance_error(-1120, "Invalid interval."))
        try:
            limit = int(params.get("limit", DEFAULT_LIMIT))
            start = int(params["startTime"]) if "startTime" in params else None
            end = int(params["endTime"]) if "endTime" in params else None
        except ValueError:
            return Reply(400, binance_error(-1100, "Illegal characters found in a parameter."))
        if not 1 <= limit <= MAX_LIMIT:
            return Reply(400, binance_error(-1130, "Data sent for parameter 'limit' is not valid."))
        if self.max_rows is not None:
            limit = min(limit, self.max_rows)
        step = timeframe_ms(interval)
        newest = self.now - self.now % step
        last = newest if end is None else min(newest, end - end % step)
        rows: list[Row] = []
        if start is not None:
            first = max(start, self.listed)
            first += -first % step
            for ts in range(first, last + 1, step):
                if len(rows) == limit:
                    break
                row = self.candle(symbol, interval, ts)
                if row is not None:
                    rows.append(row)
        else:
            for ts in range(last, self.listed - 1, -step):
                if len(rows) == limit:
                    break
                row = self.candle(symbol, interval, ts)
                if row is not None:
                    rows.append(row)
            rows.reverse()
        return Reply(200, [kline(row, step) for row in rows])


def _wire(values: Iterable[float]) -> list[float]:
    return [float(f"{x:.8f}") for x in values]


def kline(row: Row, step: int) -> list[Any]:
    """A bar in Binance's klines layout (prices as 8-decimal strings)."""
    ts, o, h, low, c, v = row
    return [
        ts,
        f"{o:.8f}",
        f"{h:.8f}",
        f"{low:.8f}",
        f"{c:.8f}",
        f"{v:.8f}",
        ts + step - 1,
        f"{v * c:.8f}",
        int(v * 10),
        f"{v / 2:.8f}",
        f"{v * c / 2:.8f}",
        "0",
    ]


def exchange_info(prices: Mapping[str, float], server_time: int) -> dict[str, Any]:
    """Binance's exchangeInfo for spot markets of the given symbols."""
    symbols = []
    for symbol in prices:
        base, quote = symbol.split("/")
        symbols.append(
            {
                "symbol": market_id(symbol),
                "status": "TRADING",
                "baseAsset": base,
                "baseAssetPrecision": 8,
                "quoteAsset": quote,
                "quotePrecision": 8,
                "quoteAssetPrecision": 8,
                "baseCommissionPrecision": 8,
                "quoteCommissionPrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
                "icebergAllowed": True,
                "ocoAllowed": True,
                "otoAllowed": True,
                "quoteOrderQtyMarketAllowed": True,
                "allowTrailingStop": True,
                "cancelReplaceAllowed": True,
                "isSpotTradingAllowed": True,
                "isMarginTradingAllowed": False,
                "filters": [
                    {
                        "filterType": "PRICE_FILTER",
                        "minPrice": "0.01000000",
                        "maxPrice": "1000000.00000000",
                        "tickSize": "0.01000000",
                    },
                    {
                        "filterType": "LOT_SIZE",
                        "minQty": "0.00001000",
                        "maxQty": "9000.00000000",
                        "stepSize": "0.00001000",
                    },
                    {
                        "filterType": "NOTIONAL",
                        "minNotional": "5.00000000",
                        "applyMinToMarket": True,
                        "maxNotional": "9000000.00000000",
                        "applyMaxToMarket": False,
                        "avgPriceMins": 5,
                    },
                ],
                "permissions": [],
                "permissionSets": [["SPOT"]],
                "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
                "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
            }
        )
    return {
        "timezone": "UTC",
        "serverTime": server_time,
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
        ],
        "exchangeFilters": [],
        "symbols": symbols,
    }


def _make_handler(fake: FakeExchange) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like a real exchange (and so drops hit a live socket)
        timeout = 30  # an idle keep-alive connection's thread ends after this
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # the request log replaces the access log

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

        def _serve(self) -> None:
            request = self._record()
            fault = fake._next_fault(request.path)
            if fault is not None and fault.kind == "drop":
                self._drop()
                return
            if fault is not None and fault.kind == "hang":
                fake._release.wait(fake.hang_s)
                self._drop()
                return
            if fault is not None:
                self._send(Reply(fault.status, fault.body, fault.headers))
                return
            handler = fake._routes.get((request.method, request.path))
            if handler is None:
                self._send(Reply(404, binance_error(-1, f"no route {request.method} {request.path}")))
                return
            self._send(handler(request))

        def _record(self) -> Recorded:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            params = dict(parse_qsl(parts.query, keep_blank_values=True))
            if "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
                params.update(parse_qsl(body, keep_blank_values=True))
            request = Recorded(self.command, parts.path, params, dict(self.headers.items()), body)
            with fake._lock:
                fake._log.append(request)
            return request

        def _send(self, reply: Reply) -> None:
            if isinstance(reply.body, str):
                payload, kind = reply.body.encode(), "text/plain"
            else:
                payload, kind = (
                    json.dumps(reply.body if reply.body is not None else {}).encode(),
                    "application/json",
                )
            self.send_response(reply.status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def _drop(self) -> None:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    return _Handler


# ccxt options for clients of the fake: no pause between calls of a local server, no 250 ms grace on
# close (it lets TLS connections wind down; the fake speaks plain HTTP).
FAST_CCXT: dict[str, Any] = {"rateLimit": 1, "timeout_on_exit": 0}


def venue_settings(fake: FakeExchange, **overrides: Any) -> dict[str, Any]:
    """``[exchange]`` settings pointing at ``fake`` with test-sized timeouts and backoff (tens of ms)."""
    values: dict[str, Any] = {
        "api_url": fake.base_url,
        "timeout_s": 2.0,
        "max_retries": 4,
        "backoff_s": 0.01,
        "backoff_max_s": 0.02,
    }
    values.update(overrides)
    return values


def venue_env(fake: FakeExchange, **overrides: Any) -> dict[str, str]:
    """The same settings as ``MT_EXCHANGE__*`` environment variables, for CLI tests."""
    return {
        f"MT_EXCHANGE__{key.upper()}": str(value) for key, value in venue_settings(fake, **overrides).items()
    }


def serve(fake: FakeExchange) -> Iterator[FakeExchange]:
    """Generator body for a pytest fixture: a started fake, stopped afterwards."""
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def serve_configured(fake: FakeExchange, monkeypatch: Any, **overrides: Any) -> Iterator[FakeExchange]:
    """Generator body for a pytest fixture: a started fake, set as the ``[exchange]`` of the
    configuration through ``MT_EXCHANGE__*`` variables (``monkeypatch`` undoes them)."""
    for started in serve(fake):
        for name, value in venue_env(started, **overrides).items():
            monkeypatch.setenv(name, value)
        yield started
