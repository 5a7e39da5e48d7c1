"""One retry policy for calls to a ccxt venue: what to retry, how long to wait, what to raise.

Market data (``CcxtVenue``) and the live broker both call the exchange through ``RetryPolicy.call``,
so they agree on which failures are transient. The rules follow ccxt's exception classes (measured
against a fake Binance, see NOTES-LIBRARIES.md):

- **Rate limits** (``RateLimitExceeded`` and ``DDoSProtection``, siblings under ``NetworkError``: HTTP 429
  and 418) are retried with backoff, even for calls that are not idempotent: the venue refused the
  request before acting on it. Given up on, they become ``errors.RateLimited``. Except for a caller that
  says a rate limit proves nothing (``retry_rate_limits=False``: an order create, which a gateway may
  answer 429 after the exchange booked it): raised at once as ``errors.RateLimitedUnknown``, its wait
  held for every caller all the same, and the caller resolves the outcome. A venue that says how
  long to wait (``Retry-After``, read through the ``retry_after`` callback) is obeyed, past
  ``backoff_max_s`` too: asking again sooner is what turns Binance's 429 into a 418 IP ban. A wait
  longer than ``max_retry_after_s`` (a ban, usually) is not sat out: the call fails at once, naming it,
  and so does every call until the wait is over (none reaches the venue meanwhile).
- **Network trouble** (the rest of ``NetworkError``: ``RequestTimeout``, ``ExchangeNotAvailable`` for 5xx
  and dropped connections; and ccxt's plain ``OperationFailed`` / ``BadResponse``, e.g. Binance -1001
  "internal error") is retried only for idempotent calls (reads, cancels, lookups). For a call that
  is not (placing an order) the request may have reached the venue, so it is raised at once as
  ``errors.VenueUnavailable`` and the caller resolves the outcome (fetch the order by its client id).
- **One wait for every caller.** A rate limit is the exchange's answer to our address, not to one call:
  Binance bans an IP (418, for minutes to days) that keeps sending while a 429's ``Retry-After`` runs.
  Policies given the same ``RateGate`` (``ccxt_venue`` gives one to every venue of an exchange and
  address in the process: the market feed's and the live broker's) hold each of their calls until the
  wait one of them was asked for is over, instead of only the call that was told.
- **A clock out of step** (``InvalidNonce``, e.g. Binance -1021) re-syncs the clock once through the
  ``resync`` callback (``exchange.load_time_difference``) and tries again; a second one is final.
- **A banned or revoked key**: Binance answers -2015 as ``DDoSProtection`` once a key has worked before,
  which a plain network-retry loop would spin on. Such an answer is retried at most ``ban_retries``
  times, then raised as ``errors.AuthenticationFailed``. Any ``AuthenticationError`` is raised as
  ``AuthenticationFailed`` at once.
- **The rest is final**: ``InsufficientFunds`` -> ``errors.InsufficientFunds``; ``InvalidOrder`` (and its
  subclasses) -> ``errors.OrderRejected``; ``BadSymbol`` -> ``errors.NotFound`` (a bad symbol is bad
  input); anything else from ccxt -> ``errors.OperationFailed``. The ccxt exception stays attached as
  ``__cause__``; ``passthrough`` lets a caller receive chosen ccxt classes untouched (e.g.
  ``OrderNotFound`` during reconciliation).

Delays grow exponentially from ``backoff_s`` (x2 per retry) up to ``backoff_max_s``, with "equal jitter":
half of each delay is fixed, half random, so many clients that failed together do not retry together
(the engine's one ``Backoff``, ``kernel/backoff.py``).
``sleep`` and ``random`` are injectable, so tests run the whole schedule without waiting.
"""

from __future__ import annotations

import asyncio
import email.utils
import enum
import logging
import random as _random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ccxt.async_support as ccxt

from mastertrade import errors
from mastertrade.engine.kernel.backoff import EQUAL_JITTER, Backoff

if TYPE_CHECKING:
    from mastertrade.config import ExchangeSettings

log = logging.getLogger(__name__)

_MESSAGE_CHARS = 300
_URL_QUERY = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s?#]+)\?[^\s#]*", re.IGNORECASE)
"""A URL's query (``?`` up to the next blank or ``#``), after its scheme, host and path (group 1)."""
# Binance's "Invalid API-key, IP, or permissions for action", which ccxt raises as DDoSProtection
# once the key has authenticated before (it can also mean a temporary ban).
_BANNED_KEY_MARKERS = ('"code":-2015', '"code": -2015')
# The longest Retry-After a call sits out; Binance asks for up to a minute on a 429 (its limits are per
# minute) and for minutes to days on a 418 ban.
MAX_RETRY_AFTER_S = 120.0


def retry_after_s(headers: Mapping[str, Any] | None, now: float | None = None) -> float | None:
    """Seconds a response's ``Retry-After`` header asks to wait (delta-seconds or an HTTP date, RFC 9110);
    None without a readable one. ``now`` is the epoch time in seconds an HTTP date is measured from."""
    value = next(
        (str(v).strip() for k, v in (headers or {}).items() if str(k).lower() == "retry-after"), None
    )
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds) if seconds == seconds else None  # NaN is no answer


REFUSED = (ccxt.BadRequest, ccxt.OperationRejected)
"""What a create may be answered that is the exchange's refusal, not a lost answer: a 400 with its code
(Binance -1013 "Filter failure: NOTIONAL", -1111 precision), which ccxt raises as ``BadRequest``, and an
operation the exchange refused as such (``OperationRejected``: ``MarketClosed`` for Binance's -1013 "Market
is closed." of a halted or delisting market)."""


class Failure(enum.Enum):
    """How ``classify`` sorts a ccxt exception."""

    RATE_LIMIT = "rate limit"
    NETWORK = "network"
    CLOCK = "clock"
    BANNED_KEY = "banned key"
    FATAL = "fatal"


def classify(exc: BaseException) -> Failure:
    """The retry class of a ccxt exception (anything that is not a ccxt error is ``FATAL``)."""
    if isinstance(exc, ccxt.InvalidNonce):
        return Failure.CLOCK
    if isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        if any(marker in str(exc) for marker in _BANNED_KEY_MARKERS):
            return Failure.BANNED_KEY
        return Failure.RATE_LIMIT
    if isinstance(exc, ccxt.CancelPending):
        return Failure.FATAL
    if isinstance(exc, ccxt.OperationFailed):  # NetworkError, BadResponse, plain OperationFailed
        return Failure.NETWORK
    return Failure.FATAL


def map_error(exc: BaseException, what: str, *, retries: int = 0) -> errors.MasterTradeError:
    """The ``mastertrade.errors`` exception for a ccxt exception, with a one-line message."""
    detail = _short(exc)
    after = f" after {retries} {'retry' if retries == 1 else 'retries'}" if retries else ""
    failure = classify(exc)
    if failure is Failure.BANNED_KEY or isinstance(exc, ccxt.AuthenticationError):
        return errors.AuthenticationFailed(f"{what}: the venue refused the API key{after}: {detail}")
    if failure is Failure.RATE_LIMIT:
        return errors.RateLimited(f"{what}: rate limited by the venue{after}: {detail}")
    if failure is Failure.CLOCK:
        return errors.VenueUnavailable(f"{what}: clock out of step with the venue{after}: {detail}")
    if failure is Failure.NETWORK:
        return errors.VenueUnavailable(f"{what}: venue unavailable{after}: {detail}")
    if isinstance(exc, ccxt.InsufficientFunds):
        return errors.InsufficientFunds(f"{what}: insufficient funds: {detail}")
    if isinstance(exc, ccxt.InvalidOrder):
        return errors.OrderRejected(f"{what}: order rejected: {detail}")
    if isinstance(exc, ccxt.BadSymbol):
        return errors.NotFound(f"{what}: unknown symbol: {detail}")
    return errors.OperationFailed(f"{what}: {detail}")


def _short(exc: BaseException) -> str:
    """The exception in one line of at most ``_MESSAGE_CHARS``, the query of any URL in it left out: ccxt
    puts the request's URL in its messages (``binance GET https://...?symbol=...&signature=...``), and a
    signed request's query holds its signature, which no log or output may show."""
    text = " ".join(_URL_QUERY.sub(r"\1?...", str(exc)).split()) or type(exc).__name__
    text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 3] + "..."


class RateGate:
    """Until when the venue asked (by a rate limit) not to be called: shared by the retry policies of
    every caller of one exchange address (see the module docstring). Plain numbers, no lock: it is read
    and written between awaits of one event loop, and a stale read costs one early request at worst."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._until = 0.0

    def hold(self, seconds: float) -> None:
        """No call before ``seconds`` from now (a later hold already set stands)."""
        self._until = max(self._until, self.clock() + seconds)

    def remaining(self) -> float:
        """Seconds left before calls may go again (0: now)."""
        return max(0.0, self._until - self.clock())


@dataclass(frozen=True)
class RetryEvent:
    """One retry about to happen: its number (1-based), the delay before it and the failure."""

    what: str
    retry: int
    delay: float
    error: BaseException
    failure: Failure


class RetryPolicy:
    """Retries venue calls by the rules of the module docstring.

    ``on_retry`` is told about every retry (counting, logging); ``sleep`` and ``random`` replace
    ``asyncio.sleep`` and ``random.random`` in tests.
    """

    def __init__(
        self,
        exchange: ExchangeSettings,
        *,
        ban_retries: int = 1,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        random: Callable[[], float] = _random.random,
        on_retry: Callable[[RetryEvent], None] | None = None,
        gate: RateGate | None = None,
    ) -> None:
        """The policy of the ``[exchange]`` settings (max_retries, backoff_s, backoff_max_s); ``gate``
        is the rate-limit wait it shares with the other callers of the same exchange address."""
        if ban_retries < 0:
            raise ValueError("ban_retries must be >= 0")
        self.max_retries = exchange.max_retries
        self.backoff = Backoff(exchange.backoff_s, exchange.backoff_max_s, spread=EQUAL_JITTER)
        self.ban_retries = ban_retries
        self.max_retry_after_s = MAX_RETRY_AFTER_S
        self.sleep = sleep
        self.random = random
        self.on_retry = on_retry
        self.gate = gate

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based): equal-jitter exponential backoff."""
        return self.backoff.delay(retry, self.random)

    async def call[T](
        self,
        fn: Callable[[], Awaitable[T]],
        *,
        what: str,
        idempotent: bool = True,
        resync: Callable[[], Awaitable[object]] | None = None,
        passthrough: tuple[type[BaseException], ...] = (),
        on_retry: Callable[[RetryEvent], None] | None = None,
        retry_after: Callable[[], float | None] | None = None,
        retry_rate_limits: bool = True,
    ) -> T:
        """Await ``fn()`` until it succeeds or the rules say stop; raise a ``mastertrade.errors`` one.

        ``what`` names the call in messages ("fetch_ohlcv BTC/USDT 1h"). ``fn`` must start a fresh
        request each time it is called. Exceptions that are not ccxt errors pass through untouched.
        ``on_retry`` is told about this call's retries, besides the policy's own observer.
        ``retry_after`` says, after a rate limit, how many seconds the venue asked to wait (None: it
        did not say). ``retry_rate_limits=False``: a rate limit is raised at once as
        ``errors.RateLimitedUnknown`` (after holding the gate for the wait it asks), for a request that
        may have been acted on although it was answered so.
        """
        retries = 0
        bans = 0
        resync_due = False
        resynced = False
        while True:
            try:
                await self._wait_for_gate(what)
                if resync_due and resync is not None:
                    resync_due = False
                    await resync()
                return await fn()
            except passthrough:
                raise
            except ccxt.BaseError as exc:
                failure = classify(exc)
                if failure is Failure.CLOCK and resync is not None and not resynced:
                    log.info("%s: clock out of step with the venue; re-syncing once", what)
                    resynced = resync_due = True
                    continue
                if failure is Failure.BANNED_KEY:
                    bans += 1
                    if bans > self.ban_retries:
                        raise map_error(exc, what, retries=retries) from exc
                if failure is Failure.RATE_LIMIT and not retry_rate_limits:
                    asked = retry_after() if retry_after is not None else None
                    if self.gate is not None:  # every call to the venue waits as asked, lookups too
                        self.gate.hold(self.delay(1) if asked is None else asked)
                    raise errors.RateLimitedUnknown(
                        f"{what}: rate limited by the venue, which may have acted on it: {_short(exc)}"
                    ) from exc
                retryable = failure in (Failure.RATE_LIMIT, Failure.BANNED_KEY) or (
                    failure is Failure.NETWORK and idempotent
                )
                asked = retry_after() if retry_after is not None and failure is Failure.RATE_LIMIT else None
                if asked is not None and self.gate is not None:
                    # Every call to the venue waits as asked, also when this one gives up (its retries
                    # used up, or a ban too long to sit out): the next poll called into a 418 ban again a
                    # moment later, which Binance answers with a longer ban.
                    self.gate.hold(asked)
                if not retryable or retries >= self.max_retries:
                    raise map_error(exc, what, retries=retries) from exc
                if asked is not None and asked > self.max_retry_after_s:
                    raise errors.RateLimited(
                        f"{what}: rate limited by the venue, which asks to wait {asked:.0f}s (Retry-After); "
                        f"try again later: {_short(exc)}"
                    ) from exc
                retries += 1
                pause = self.delay(retries) if asked is None else max(self.delay(retries), asked)
                if failure is Failure.RATE_LIMIT and self.gate is not None:
                    self.gate.hold(pause)  # every other call to the venue waits as long
                log.warning(
                    "%s: %s (%s); retry %d of %d in %.2fs",
                    what,
                    failure.value,
                    type(exc).__name__,
                    retries,
                    self.max_retries,
                    pause,
                )
                event = RetryEvent(what, retries, pause, exc, failure)
                for observer in (self.on_retry, on_retry):
                    if observer is not None:
                        observer(event)
                await self.sleep(pause)

    async def _wait_for_gate(self, what: str) -> None:
        """Hold the call while a rate limit another call was told of runs; fail at once, naming the
        wait, when it is longer than ``max_retry_after_s`` (a ban is not sat out)."""
        left = self.gate.remaining() if self.gate is not None else 0.0
        if left <= 0:
            return
        if left > self.max_retry_after_s:
            raise errors.RateLimited(
                f"{what}: rate limited by the venue, which asked to wait {left:.0f}s more (Retry-After); "
                "try again later"
            )
        log.info("%s: held %.2fs: the venue asked to wait (rate limit)", what, left)
        await self.sleep(left)
