"""Binance's spot market streams on 127.0.0.1, for driving ccxt.pro's real Binance client in tests.

``FakeBinanceStreams`` is an aiohttp websocket server in the test's event loop. It speaks the part of
Binance's stream protocol that ``watch_ohlcv`` uses (read from ``ccxt/pro/binance.py``):

- ccxt connects to ``<urls.api.ws.spot>/<n>`` (n is ccxt's stream index, 0 for the first 50
  subscriptions), so with ``[exchange] ws_url = fake.url`` it opens ``ws://127.0.0.1:PORT/ws/0``;
- it sends ``{"method": "SUBSCRIBE", "params": ["btcusdt@kline_1m"], "id": 1}`` per ``watch_ohlcv``
  call that needs a new subscription (again on every new connection), answered ``{"result": null,
  "id": 1}``; ``UNSUBSCRIBE`` and ``LIST_SUBSCRIPTIONS`` work as on Binance, anything else gets
  Binance's error ``{"error": {"code": 2, "msg": ...}, "id": ...}``;
- kline events are ``{"e": "kline", "E": .., "s": "BTCUSDT", "k": {"t": open time, "T": close time,
  "s": "BTCUSDT", "i": "1m", "o": "..", "c": "..", "h": "..", "l": "..", "v": "..", "x": final, ..}}``
  with prices as 8-decimal strings, sent only to connections subscribed to the stream.

The test scripts the market: ``kline`` pushes a bar (forming, or ``final=True``) to its subscribers;
``drop`` cuts every connection without a close frame (a network failure) or ``close`` ends them with
one; ``refuse`` answers the next handshakes with HTTP 503 (an exchange that is down). It records every
connection's path and every subscription message. Pair it with ``tests.fakes.exchange.FakeExchange``
for the REST side: ``bar_from`` reads a bar of that fake, so both transports agree on prices.

    async with FakeBinanceStreams() as streams, ...:
        await streams.wait_subscribed("BTC/USDT", "1m")
        await streams.kline("BTC/USDT", "1m", fake.candle("BTC/USDT", "1m", ts), final=False)
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from mastertrade.engine.market.timeframes import timeframe_ms
from tests.fakes.exchange import FakeExchange, Row, market_id


def stream_name(symbol: str, interval: str) -> str:
    """Binance's name of a kline stream: ``btcusdt@kline_1m`` for ("BTC/USDT", "1m")."""
    return f"{market_id(symbol).lower()}@kline_{interval}"


def kline_event(
    symbol: str, interval: str, row: Row, *, final: bool, event_time: int | None = None
) -> dict[str, Any]:
    """A Binance kline event for the bar ``row`` (prices as the 8-decimal strings Binance sends)."""
    ts, o, h, low, c, v = row
    step = timeframe_ms(interval)
    market = market_id(symbol)
    return {
        "e": "kline",
        "E": event_time if event_time is not None else ts + step - 1 if final else ts,
        "s": market,
        "k": {
            "t": ts,
            "T": ts + step - 1,
            "s": market,
            "i": interval,
            "f": 100,
            "L": 200,
            "o": f"{o:.8f}",
            "c": f"{c:.8f}",
            "h": f"{h:.8f}",
            "l": f"{low:.8f}",
            "v": f"{v:.8f}",
            "n": 101,
            "x": final,
            "q": f"{v * c:.8f}",
            "V": f"{v / 2:.8f}",
            "Q": f"{v * c / 2:.8f}",
            "B": "0",
        },
    }


@dataclass
class Connection:
    """One client connection: its path and the streams it subscribed to."""

    path: str
    socket: web.WebSocketResponse
    streams: set[str] = field(default_factory=set)
    transport: asyncio.BaseTransport | None = None


class FakeBinanceStreams:
    """Binance's spot market streams (see the module docstring)."""

    def __init__(self) -> None:
        self.connections: list[Connection] = []
        """Every connection accepted, open or closed, in order."""
        self.subscriptions: list[dict[str, Any]] = []
        """Every SUBSCRIBE/UNSUBSCRIBE message received, in order."""
        self.refused = 0
        """Handshakes answered with HTTP 503."""
        self._refuse = 0
        self._open: list[Connection] = []
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # -- life cycle ------------------------------------------------------------------------------

    async def start(self) -> FakeBinanceStreams:
        app = web.Application()
        app.router.add_get("/ws/{stream}", self._handle)
        app.router.add_get("/ws", self._handle)
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        await self.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBinanceStreams:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        assert self._port is not None, "start() the fake first"
        return self._port

    @property
    def url(self) -> str:
        """The value for ``[exchange] ws_url``: ``ws://127.0.0.1:PORT/ws``."""
        return f"ws://127.0.0.1:{self.port}/ws"

    # -- what the test scripts -------------------------------------------------------------------

    def refuse(self, times: int = 1) -> None:
        """Answer the next ``times`` handshakes with HTTP 503 instead of a websocket."""
        self._refuse += times

    async def kline(
        self, symbol: str, interval: str, row: Row, *, final: bool = False, event_time: int | None = None
    ) -> int:
        """Push the bar ``row`` of ``symbol`` to every connection subscribed to its stream; returns how
        many received it."""
        message = json.dumps(kline_event(symbol, interval, row, final=final, event_time=event_time))
        stream = stream_name(symbol, interval)
        sent = 0
        for connection in list(self._open):
            if stream in connection.streams and not connection.socket.closed:
                await connection.socket.send_str(message)
                sent += 1
        return sent

    async def bar_from(
        self, market: FakeExchange, symbol: str, interval: str, ts: int, *, final: bool = False
    ) -> Row:
        """Push the bar at ``ts`` as the REST fake ``market`` serves it at its clock; returns it."""
        row = market.candle(symbol, interval, ts)
        assert row is not None, f"the REST fake has no {symbol} {interval} bar at {ts}"
        assert await self.kline(symbol, interval, row, final=final), f"nobody is subscribed to {symbol}"
        return row

    async def drop(self) -> int:
        """Cut every open connection without a close frame (as a network failure would); returns how
        many there were."""
        dropped = 0
        for connection in list(self._open):
            if connection.transport is not None:
                connection.transport.abort()
                dropped += 1
        self._open.clear()
        return dropped

    async def close(self, code: int = 1001) -> None:
        """End every open connection with a close frame (``1001``: going away, as on maintenance)."""
        for connection in list(self._open):
            await connection.socket.close(code=code)
        self._open.clear()

    # -- what the test reads ---------------------------------------------------------------------

    def streams(self) -> set[str]:
        """The streams subscribed on the open connections."""
        return {stream for connection in self._open for stream in connection.streams}

    def subscribed(self, symbol: str, interval: str) -> bool:
        return stream_name(symbol, interval) in self.streams()

    async def wait_subscribed(
        self, symbols: str | list[str], interval: str, *, connections: int = 1, timeout: float = 5.0
    ) -> None:
        """Wait until the open connections carry the streams of ``symbols`` and at least
        ``connections`` connections were accepted in all."""
        wanted = {
            stream_name(symbol, interval) for symbol in ([symbols] if isinstance(symbols, str) else symbols)
        }
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (wanted <= self.streams() and len(self.connections) >= connections):
            if loop.time() > deadline:
                raise AssertionError(
                    f"not subscribed within {timeout}s: wanted {sorted(wanted)} on connection "
                    f"{connections}, have {sorted(self.streams())} on {len(self.connections)}"
                )
            await asyncio.sleep(0.005)

    # -- the server ------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self._refuse > 0:
            self._refuse -= 1
            self.refused += 1
            return web.Response(status=503, text="Service Unavailable")
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        connection = Connection(request.path, socket, transport=request.transport)
        self.connections.append(connection)
        self._open.append(connection)
        try:
            async for message in socket:
                if message.type is not WSMsgType.TEXT:
                    continue
                reply = self._answer(connection, message.data)
                if reply is not None:
                    await socket.send_str(json.dumps(reply))
        finally:
            if connection in self._open:
                self._open.remove(connection)
        return socket

    def _answer(self, connection: Connection, text: str) -> Mapping[str, Any] | None:
        try:
            message = json.loads(text)
        except ValueError:
            return {"error": {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"}}
        if not isinstance(message, dict):
            return {"error": {"code": 3, "msg": "Invalid JSON: expected an object"}}
        method, params, request_id = message.get("method"), message.get("params"), message.get("id")
        if method == "LIST_SUBSCRIPTIONS":
            return {"result": sorted(connection.streams), "id": request_id}
        if method not in ("SUBSCRIBE", "UNSUBSCRIBE") or not isinstance(params, list):
            return {
                "error": {"code": 2, "msg": f"Invalid request: unknown method {method!r}"},
                "id": request_id,
            }
        if not all(isinstance(stream, str) and "@kline_" in stream for stream in params):
            return {"error": {"code": 2, "msg": "Invalid request: invalid stream"}, "id": request_id}
        self.subscriptions.append(message)
        if method == "SUBSCRIBE":
            connection.streams.update(params)
        else:
            connection.streams.difference_update(params)
        return {"result": None, "id": request_id}
