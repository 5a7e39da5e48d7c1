"""A real exchange as a ``Venue``, through ccxt's async client.

``CcxtVenue`` wraps one ``ccxt.async_support`` exchange: rate limiting on (``enableRateLimit``), the request
timeout and keys of the ``[exchange]`` settings, and every call through the shared ``RetryPolicy``.

**``[exchange] api_url``** (testnets, proxies, self-hosted gateways) is applied in three layers, so a
request can only ever reach that address:

1. the venue's main REST families (``public``, ``private``, ``rest``; for Binance ``public`` and ``private``)
   are rebased onto it: the origin of each original URL is replaced, its path kept
   (``https://api.binance.com/api/v3`` -> ``<api_url>/api/v3``);
2. every other API family points at ``https://blocked.invalid/...``, an address that cannot resolve;
3. the low-level ``fetch`` refuses any URL that does not start with ``<api_url>/`` by raising
   ``BlockedRequest`` before a connection is opened.

With api_url set, ccxt's ``load_markets`` is also told to ask for spot markets only and skip currencies
and margin pairs, so it calls only the main family (``GET /api/v3/exchangeInfo`` on Binance). The api_url
and keys belong to the configured exchange (``[exchange] id``): a venue opened for another exchange id
gets neither. Keys are never logged: ccxt's wire logger is silenced for this client, whose debug lines
would carry request headers.

**Websockets** follow the same rule. ``[exchange] ws_url`` replaces the venue's main websocket family
(Binance: spot and margin market streams; the rest point at ``wss://blocked.invalid/...``), and the
websocket client refuses to connect anywhere else. With api_url set and ws_url unset, websockets stay
off: nothing may leave for the venue's public stream hosts, so the live feed polls api_url.

**Live feed.** ``stream`` runs ``ccxt_stream.LiveFeed``: the exchange's websocket streams (ccxt.pro
``watch_ohlcv``, through a second, keyless client from ``ws_client``) where ccxt has them and the
settings allow, REST polling every ``poll_interval_s`` seconds otherwise. Each symbol's forming bar is
emitted when it changes, and every bar once with ``closed=True`` (see ``ccxt_stream``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro

from mastertrade import errors
from mastertrade.engine.candle import CandleRow
from mastertrade.engine.market.ccxt_common import BlockedRequest, Sleep, WsPolicy, candle_row
from mastertrade.engine.market.ccxt_stream import LiveFeed, rebase_ws, ws_client_class
from mastertrade.engine.market.retry import RateGate, RetryEvent, RetryPolicy, retry_after_s
from mastertrade.engine.market.timeframes import timeframe_ms
from mastertrade.engine.market.venue import CandleUpdate

if TYPE_CHECKING:
    from mastertrade.config import ExchangeSettings

log = logging.getLogger(__name__)

MAIN_FAMILIES = ("public", "private", "rest")
_KEY_FIELDS = ("apiKey", "secret", "password")
BLOCKED_ORIGIN = "https://blocked.invalid"
# Options that make load_markets call only the spot exchangeInfo endpoint (measured on Binance).
API_URL_OPTIONS: dict[str, Any] = {
    "fetchCurrencies": False,
    "fetchMargins": False,
    "fetchMarkets": {"types": ["spot"]},
}

# ccxt logs every request, headers included, at DEBUG on its module logger; the clients we create log
# to this one instead, which never emits below INFO whatever the root logger's level.
_WIRE_LOG = logging.getLogger("mastertrade.ccxt.wire")
_WIRE_LOG.setLevel(logging.INFO)

_GATES: dict[tuple[str, str | None], RateGate] = {}
"""The rate-limit wait of each exchange address (id and api_url), shared by every venue of the process
on it: the exchange limits (and bans) our address, whichever client sent the requests."""


def rate_gate(exchange_id: str, api_url: str | None) -> RateGate:
    """The one ``RateGate`` of ``exchange_id`` at ``api_url`` (None: its own hosts) in this process."""
    return _GATES.setdefault((exchange_id, api_url), RateGate())


def exchange_ids() -> list[str]:
    """Every exchange id ccxt knows."""
    return list(ccxt_async.exchanges)


def check_exchange_id(exchange_id: str) -> None:
    """Raise ``UserInputError`` naming ``exchange_id`` unless ccxt knows it."""
    if exchange_id not in ccxt_async.exchanges:
        raise errors.UserInputError(
            f"unknown exchange {exchange_id!r}: not a ccxt exchange id (e.g. binance, kraken, coinbase)"
        )


class CcxtVenue:
    """A ccxt exchange behind the ``Venue`` interface (see the module docstring).

    ``exchange_id`` defaults to ``settings.id``; ``retry`` to the policy of ``settings``; ``options`` are
    extra ccxt constructor options (tests lower ``rateLimit``); ``sleep`` paces the live feed.
    The raw client is ``exchange``; ``call`` runs any coroutine of it under the retry policy.
    ``ws_client()`` is the live feed's websocket client, or None when ``ws_off`` says why not.
    """

    def __init__(
        self,
        settings: ExchangeSettings,
        *,
        exchange_id: str | None = None,
        retry: RetryPolicy | None = None,
        options: Mapping[str, Any] | None = None,
        poll_interval_s: float | None = None,
        page_limit: int | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        exchange_id = exchange_id or settings.id
        check_exchange_id(exchange_id)
        self._id = exchange_id
        self.retries = 0
        self.feed_trouble: dict[str, tuple[int, str]] = {}
        """Symbols whose live-feed polls fail: since when and why (``venue.ReportsFeedTrouble``)."""
        """Retries made so far by calls of this venue (network errors and rate limits)."""
        own = exchange_id == settings.id
        api_url = settings.api_url.rstrip("/") if own and settings.api_url else None
        self.retry = retry or RetryPolicy(settings, gate=rate_gate(exchange_id, api_url))
        self.poll_interval_s = poll_interval_s if poll_interval_s is not None else settings.poll_interval_s
        self.page_limit = page_limit if page_limit is not None else settings.page_limit
        self.sleep = sleep

        self.api_url = _check_api_url(settings.api_url) if own and settings.api_url else None
        self.ws_url = _check_ws_url(settings.ws_url) if own and settings.ws_url else None
        self.ws_off: str | None = _ws_off(settings.websocket, exchange_id, self.api_url, self.ws_url)
        """Why the live feed does not use websockets (None: it does)."""
        self.ws_policy = WsPolicy()
        self._ws: Any = None
        config: dict[str, Any] = {"timeout": max(1, round(settings.timeout_s * 1000)), **(options or {})}
        config["enableRateLimit"] = True
        if own:
            for name, secret in (
                ("apiKey", settings.api_key),
                ("secret", settings.secret),
                ("password", settings.password),
            ):
                if secret is not None:
                    config[name] = secret.get_secret_value()
        cls: type[Any] = getattr(ccxt_async, exchange_id)
        if self.api_url is not None:
            config["options"] = {**API_URL_OPTIONS, **config.get("options", {})}
            cls = _guarded(cls)
        self._ws_config = {key: value for key, value in config.items() if key not in _KEY_FIELDS}
        exchange = cls(config)
        exchange.logger = _WIRE_LOG
        exchange.verbose = False
        if self.api_url is not None:
            exchange._mt_allowed = self.api_url + "/"
            exchange._mt_rebased = _rebase(exchange, self.api_url)
        self.exchange: Any = exchange

    def _count_retry(self, event: RetryEvent) -> None:
        self.retries += 1

    def __repr__(self) -> str:
        where = f" api_url={self.api_url}" if self.api_url else ""
        return f"<CcxtVenue {self._id}{where}>"

    @property
    def id(self) -> str:
        return self._id

    @property
    def simulated(self) -> bool:
        return False

    async def __aenter__(self) -> CcxtVenue:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        try:
            if self._ws is not None:
                await self._ws.close()
        finally:
            await self.exchange.close()

    def ws_client(self) -> Any | None:
        """The ccxt.pro client of the live feed's websocket streams, made on first use; None when
        websockets are off (``ws_off`` says why). It carries no keys, shares the REST client's URL
        guard when api_url is set, and opens websockets only to ws_url when that is set."""
        if self._ws is None and self.ws_off is None:
            cls: type[Any] = getattr(ccxt_pro, self._id)
            if self.api_url is not None:
                cls = _guarded(cls)
            client = ws_client_class(cls, self.ws_url)(dict(self._ws_config))
            client.logger = _WIRE_LOG
            client.verbose = False
            if self.api_url is not None:
                client._mt_allowed = self.api_url + "/"
                client._mt_rebased = _rebase(client, self.api_url)
            if self.ws_url is not None:
                rebase_ws(client, self.ws_url)
            if not client.has.get("watchOHLCV"):
                self.ws_off = f"ccxt's {self._id} websocket client has no watchOHLCV"
                return None
            self._ws = client
        return self._ws

    async def call[T](
        self,
        fn: Callable[[], Awaitable[T]],
        *,
        what: str,
        idempotent: bool = True,
        passthrough: tuple[type[BaseException], ...] = (),
        retry_rate_limits: bool = True,
    ) -> T:
        """Run ``fn`` (a fresh request of ``self.exchange`` per call) under the retry policy, re-syncing
        the clock on an ``InvalidNonce`` and waiting as long as a rate limit's ``Retry-After`` asks
        (``retry_rate_limits=False``: not retried, see ``retry.py``). Failures arrive as
        ``mastertrade.errors`` (see ``retry.py``)."""
        exchange = self.exchange

        async def attempt() -> T:
            exchange.last_response_headers = None  # so a Retry-After read below is this request's
            return await fn()

        return await self.retry.call(
            attempt,
            what=what,
            idempotent=idempotent,
            resync=exchange.load_time_difference,
            passthrough=passthrough,
            on_retry=self._count_retry,
            retry_after=lambda: retry_after_s(exchange.last_response_headers),
            retry_rate_limits=retry_rate_limits,
        )

    def rate_limited_for(self) -> float:
        """Seconds before a request may go to the exchange again: the rate-limit wait it asked of this
        address (``retry.RateGate``), which every call sits out first; 0 when there is none."""
        gate = self.retry.gate
        return gate.remaining() if gate is not None else 0.0

    async def load_markets(self, reload: bool = False) -> dict[str, Any]:
        """The exchange's markets by unified symbol (loaded once, then cached by ccxt). Once loaded they are
        read without the retry policy: no request goes out, so there is no rate-limit wait to sit out (an
        order is checked against them before it is journaled)."""
        cached: dict[str, Any] | None = self.exchange.markets
        if cached and not reload:
            return cached
        markets: dict[str, Any] = await self.call(
            lambda: self.exchange.load_markets(reload), what=f"{self._id} load_markets"
        )
        return markets

    async def check_symbol(self, symbol: str) -> str:
        """The exchange's own spelling of ``symbol`` (``btc/usdt`` is its ``BTC/USDT``); ``NotFound``
        (exit 2) naming ``symbol`` unless the exchange lists it."""
        from mastertrade.engine.market.symbols import spelled_as

        markets = await self.load_markets()
        listed = spelled_as(symbol.strip(), markets)
        if listed is None:
            import difflib

            close = difflib.get_close_matches(symbol.strip().upper(), list(markets), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise errors.NotFound(f"unknown symbol {symbol!r} on {self._id}{hint}")
        return listed

    def check_timeframe(self, timeframe: str) -> None:
        """Raise ``UserInputError`` naming ``timeframe`` unless it is valid and the exchange offers it."""
        timeframe_ms(timeframe)
        if not self.exchange.has.get("fetchOHLCV"):
            raise errors.UserInputError(f"exchange {self._id!r} does not serve candles (no fetchOHLCV)")
        offered = self.exchange.timeframes or {}
        if offered and timeframe not in offered:
            raise errors.UserInputError(
                f"timeframe {timeframe!r} is not offered by {self._id} (it has {', '.join(offered)})"
            )

    async def server_time(self) -> int | None:
        """The exchange's clock in epoch ms (ccxt ``fetch_time``); None when ccxt cannot ask this
        exchange, or the exchange (or the gateway at api_url) refuses the question."""
        if not self.exchange.has.get("fetchTime"):
            return None
        try:
            answer = await self.call(self.exchange.fetch_time, what=f"{self._id} fetch_time")
        except errors.OperationFailed as exc:
            log.warning("%s: the exchange's clock is unavailable (%s); going by ours", self._id, exc)
            return None
        return int(answer) if answer is not None else None

    async def fetch_ohlcv(self, symbol: str, timeframe: str, since: int, limit: int) -> list[CandleRow]:
        return await self.fetch_rows(symbol, timeframe, since, limit)

    async def fetch_rows(self, symbol: str, timeframe: str, since: int | None, limit: int) -> list[CandleRow]:
        """Candles from ``since`` (None: the newest), without the ones missing a price."""
        raw = await self.call(
            lambda: self.exchange.fetch_ohlcv(symbol, timeframe, since, limit),
            what=f"{self._id} fetch_ohlcv {symbol} {timeframe}",
        )
        rows = [row for row in (candle_row(item) for item in raw) if row is not None]
        if len(rows) < len(raw):
            log.warning(
                "%s %s %s: %d candles without prices left out",
                self._id,
                symbol,
                timeframe,
                len(raw) - len(rows),
            )
        return rows

    def stream(
        self, symbols: Sequence[str], timeframe: str, *, after: Mapping[str, int] | None = None
    ) -> AsyncIterator[CandleUpdate]:
        """Live updates of the symbols' bars, over websockets or REST polling (see ``ccxt_stream``),
        starting with the bars closed since ``after``."""
        return LiveFeed(self, symbols, timeframe, after=after).run()


def _ws_off(enabled: bool, exchange_id: str, api_url: str | None, ws_url: str | None) -> str | None:
    if not enabled:
        return "[exchange] websocket = false"
    if api_url is not None and ws_url is None:
        return "[exchange] api_url is set without ws_url"
    if exchange_id not in ccxt_pro.exchanges:
        return f"ccxt has no websocket client for {exchange_id}"
    return None


def _check_ws_url(url: str) -> str:
    """``url`` without a trailing slash; ``UserInputError`` unless it is a ws(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.netloc or parts.query or parts.fragment:
        raise errors.UserInputError(f"invalid [exchange] ws_url {url!r}: expected ws(s)://host[:port][/path]")
    _check_port(url, "ws_url")
    return url.rstrip("/")


def _check_api_url(url: str) -> str:
    """``url`` without a trailing slash; ``UserInputError`` unless it is an http(s) origin (and path)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise errors.UserInputError(
            f"invalid [exchange] api_url {url!r}: expected http(s)://host[:port][/path]"
        )
    _check_port(url, "api_url")
    return url.rstrip("/")


def _check_port(url: str, setting: str) -> None:
    """``UserInputError`` naming ``url`` when its host is missing or its port is not 1..65535 (settings
    built without validation); the HTTP client found it only with the first request, as a traceback."""
    from mastertrade.config import url_host_problem

    problem = url_host_problem(url)
    if problem is not None:
        raise errors.UserInputError(f"invalid [exchange] {setting} {url!r}: {problem}")


def _rebase(exchange: Any, api_url: str) -> list[tuple[str, str]]:
    """Point the main REST families at ``api_url`` and the rest at ``BLOCKED_ORIGIN``; returns the
    (rebased, original) URL pairs so errors can still be read with the original host's rules."""
    pairs: list[tuple[str, str]] = []

    def rebase(url: str, target: str) -> str:
        path = urlsplit(url).path.rstrip("/")
        new = target + path
        pairs.append((new, url.rstrip("/")))
        return new

    def walk(node: Any, main: bool, family: str) -> Any:
        if isinstance(node, dict):
            return {
                key: walk(value, main or key in MAIN_FAMILIES, f"{family}/{key}")
                for key, value in node.items()
            }
        if isinstance(node, str):
            return rebase(node, api_url) if main else rebase(node, BLOCKED_ORIGIN + family)
        return node

    api = exchange.urls.get("api")
    if isinstance(api, str):
        exchange.urls["api"] = rebase(api, api_url)
    else:
        exchange.urls["api"] = walk(api, False, "")
    return [(new, old) for new, old in pairs if new.startswith(api_url)]


def _guarded(base: type[Any]) -> type[Any]:
    """A subclass of a ccxt exchange class whose ``fetch`` refuses URLs outside its api_url."""

    class Guarded(base):  # type: ignore[misc]
        _mt_allowed: str
        _mt_rebased: list[tuple[str, str]]

        async def fetch(self, url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
            if not url.startswith(self._mt_allowed):
                where = url.split("?", 1)[0]  # the query may carry a signature
                raise BlockedRequest(
                    f"refused {method} {where}: [exchange] api_url is set, so requests may only go to "
                    f"{self._mt_allowed}"
                )
            return await super().fetch(url, method, headers, body)

        def get_exceptions_by_url(self, url: str, exactOrBroad: str) -> Any:  # noqa: N803 (ccxt's name)
            # Some venues pick their error table by host; read our rebased URLs as the originals.
            for new, old in self._mt_rebased:
                if url.startswith(new):
                    url = old + url[len(new) :]
                    break
            return super().get_exceptions_by_url(url, exactOrBroad)

    Guarded.__name__ = Guarded.__qualname__ = base.__name__
    return Guarded
