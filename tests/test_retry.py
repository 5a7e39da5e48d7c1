"""The retry policy for venue calls: what is retried, how long it waits, what it raises.

Unit tests with a fake clock (``sleep`` records delays instead of waiting) and scripted failures.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import ccxt.async_support as ccxt
import pytest

from mastertrade import errors
from mastertrade.config import ExchangeSettings
from mastertrade.engine.market.retry import (
    Failure,
    RateGate,
    RetryEvent,
    RetryPolicy,
    classify,
    map_error,
)

BANNED = 'binance {"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}'


class FakeClock:
    """Stands in for asyncio.sleep: advances a virtual clock and records each delay."""

    def __init__(self) -> None:
        self.now = 0.0
        self.delays: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.now += seconds


def script(*outcomes: BaseException | str) -> tuple[Callable[[], Awaitable[str]], list[int]]:
    """A call that raises or returns the given outcomes in turn; also returns its call counter."""
    calls = [0]

    async def fn() -> str:
        outcome = outcomes[min(calls[0], len(outcomes) - 1)]
        calls[0] += 1
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return fn, calls


def policy(clock: FakeClock, max_retries: int = 5, **kwargs: Any) -> RetryPolicy:
    exchange = ExchangeSettings(max_retries=max_retries, backoff_s=1.0, backoff_max_s=8.0)
    return RetryPolicy(exchange, sleep=clock.sleep, **{"random": lambda: 0.5, **kwargs})


@pytest.mark.parametrize(
    "exc",
    [
        ccxt.RequestTimeout("timeout"),
        ccxt.ExchangeNotAvailable("503"),
        ccxt.DDoSProtection("429"),
        ccxt.RateLimitExceeded("429"),
        ccxt.OperationFailed('{"code":-1001}'),
        ccxt.BadResponse("not json"),
    ],
)
async def test_transient_errors_are_retried_then_succeed(exc: BaseException) -> None:
    clock = FakeClock()
    events: list[RetryEvent] = []
    mine: list[RetryEvent] = []
    fn, calls = script(exc, exc, "ok")
    result = await policy(clock, on_retry=events.append).call(fn, what="fetch", on_retry=mine.append)
    assert result == "ok" and calls[0] == 3
    assert [event.retry for event in events] == [1, 2] and mine == events
    assert events[0].error is exc and events[0].what == "fetch"
    assert clock.delays == [0.75, 1.5]  # 1s then 2s nominal, equal jitter at random() = 0.5


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    exchange = ExchangeSettings(backoff_s=1.0, backoff_max_s=8.0)
    low = RetryPolicy(exchange, random=lambda: 0.0)
    high = RetryPolicy(exchange, random=lambda: 0.999999)
    assert [low.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert [round(high.delay(n), 3) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert low.delay(10_000) == 4.0  # no overflow on absurd retry counts


async def test_retries_are_capped_and_mapped() -> None:
    clock = FakeClock()
    fn, calls = script(ccxt.ExchangeNotAvailable("binance GET https://x 503"))
    with pytest.raises(errors.VenueUnavailable, match=r"fetch: venue unavailable after 3 retries") as info:
        await policy(clock, max_retries=3).call(fn, what="fetch")
    assert calls[0] == 4 and len(clock.delays) == 3
    assert isinstance(info.value.__cause__, ccxt.ExchangeNotAvailable)

    fn, calls = script(ccxt.RateLimitExceeded("429"))
    with pytest.raises(errors.RateLimited, match="rate limited by the venue after 2 retries"):
        await policy(FakeClock(), max_retries=2).call(fn, what="fetch")


@pytest.mark.parametrize(
    ("exc", "mapped"),
    [
        (ccxt.InvalidOrder("bad"), errors.OrderRejected),
        (ccxt.OrderNotFound("gone"), errors.OrderRejected),
        (ccxt.InsufficientFunds("poor"), errors.InsufficientFunds),
        (ccxt.BadSymbol("binance does not have market symbol X/Y"), errors.NotFound),
        (ccxt.AuthenticationError("bad key"), errors.AuthenticationFailed),
        (ccxt.PermissionDenied("no trading"), errors.AuthenticationFailed),
        (ccxt.ExchangeError("weird"), errors.OperationFailed),
        (ccxt.NotSupported("nope"), errors.OperationFailed),
        (ccxt.CancelPending("pending"), errors.OperationFailed),
    ],
)
async def test_fatal_errors_are_never_retried(exc: BaseException, mapped: type[Exception]) -> None:
    clock = FakeClock()
    fn, calls = script(exc, "ok")
    with pytest.raises(mapped):
        await policy(clock).call(fn, what="create_order")
    assert calls[0] == 1 and clock.delays == []


async def test_a_revoked_key_surfacing_as_ddos_protection_cannot_spin() -> None:
    clock = FakeClock()
    fn, calls = script(ccxt.DDoSProtection(BANNED))
    with pytest.raises(errors.AuthenticationFailed, match="refused the API key"):
        await policy(clock, max_retries=50, ban_retries=1).call(fn, what="fetch_balance")
    assert calls[0] == 2 and len(clock.delays) == 1  # one retry (a ban may be temporary), then stop
    fn, calls = script(ccxt.DDoSProtection(BANNED))
    with pytest.raises(errors.AuthenticationFailed):
        await policy(clock, ban_retries=0).call(fn, what="fetch_balance")
    assert calls[0] == 1


async def test_invalid_nonce_resyncs_the_clock_once_then_retries() -> None:
    clock = FakeClock()
    resyncs = [0]

    async def resync() -> int:
        resyncs[0] += 1
        return 1234

    fn, calls = script(ccxt.InvalidNonce("-1021"), "ok")
    assert await policy(clock).call(fn, what="fetch_balance", resync=resync) == "ok"
    assert resyncs[0] == 1 and calls[0] == 2 and clock.delays == []

    fn, calls = script(ccxt.InvalidNonce("-1021"))
    with pytest.raises(errors.VenueUnavailable, match="clock out of step"):
        await policy(clock).call(fn, what="fetch_balance", resync=resync)
    assert resyncs[0] == 2 and calls[0] == 2  # re-synced once more for this call, never again


async def test_a_failing_resync_is_itself_classified() -> None:
    clock = FakeClock()

    async def resync() -> None:
        raise ccxt.RequestTimeout("time endpoint timed out")

    fn, calls = script(ccxt.InvalidNonce("-1021"), "ok")
    # The resync times out (a network error: retried with backoff), and the call runs afterwards.
    assert await policy(clock).call(fn, what="fetch_balance", resync=resync) == "ok"
    assert calls[0] == 2 and len(clock.delays) == 1


async def test_calls_that_are_not_idempotent_retry_only_rate_limits() -> None:
    clock = FakeClock()
    fn, calls = script(ccxt.RequestTimeout("timeout"), "ok")
    with pytest.raises(errors.VenueUnavailable):
        await policy(clock).call(fn, what="create_order", idempotent=False)
    assert calls[0] == 1  # the order may exist: the caller must look it up, not resend it
    fn, calls = script(ccxt.DDoSProtection("429"), ccxt.RateLimitExceeded("429"), "ok")
    assert await policy(clock).call(fn, what="create_order", idempotent=False) == "ok"
    assert calls[0] == 3


@pytest.mark.parametrize("asked", [None, 7.0, 600.0])
async def test_a_rate_limit_that_proves_nothing_is_raised_at_once_its_wait_held_for_every_caller(
    asked: float | None,
) -> None:
    """An order create answered 429 may have been booked (a gateway's answer): with
    ``retry_rate_limits=False`` it is not retried but raised as ``RateLimitedUnknown`` (the caller looks
    the order up), and the wait it asked for (or the first backoff) still holds every call to the venue."""
    clock = FakeClock()
    gate = RateGate(clock=lambda: clock.now)
    fn, calls = script(ccxt.DDoSProtection("429"), "ok")
    limited = policy(clock, gate=gate)
    with pytest.raises(errors.RateLimitedUnknown, match="may have acted on it"):
        await limited.call(
            fn, what="create_order", idempotent=False, retry_rate_limits=False, retry_after=lambda: asked
        )
    assert calls[0] == 1 and clock.delays == []
    assert gate.remaining() == (limited.delay(1) if asked is None else asked)
    fn, calls = script(ccxt.DDoSProtection(BANNED))
    with pytest.raises(errors.AuthenticationFailed):  # a refused key is no rate limit: refused, as ever
        await policy(FakeClock(), ban_retries=0).call(fn, what="create_order", retry_rate_limits=False)


async def test_passthrough_and_foreign_exceptions_are_untouched() -> None:
    fn, _ = script(ccxt.OrderNotFound("gone"))
    with pytest.raises(ccxt.OrderNotFound):
        await policy(FakeClock()).call(fn, what="fetch_order", passthrough=(ccxt.OrderNotFound,))
    fn, calls = script(ValueError("bug"))
    with pytest.raises(ValueError, match="bug"):
        await policy(FakeClock()).call(fn, what="fetch")
    assert calls[0] == 1


def test_classification_and_messages() -> None:
    assert classify(ccxt.InvalidNonce("x")) is Failure.CLOCK
    assert classify(ccxt.DDoSProtection(BANNED)) is Failure.BANNED_KEY
    assert classify(ccxt.DDoSProtection("418 banned until")) is Failure.RATE_LIMIT
    assert classify(ccxt.OnMaintenance("x")) is Failure.NETWORK
    assert classify(RuntimeError("x")) is Failure.FATAL
    long = map_error(ccxt.ExchangeError("x" * 5000), "fetch")
    assert isinstance(long, errors.OperationFailed) and len(str(long)) < 400 and "\n" not in str(long)


def test_a_signed_requests_query_never_reaches_the_message() -> None:
    signed = (
        "binance GET https://api.binance.com/api/v3/myTrades?symbol=BTCUSDT&orderId=7&timestamp=1764806400000"
        "&recvWindow=10000&signature=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 503"
        " Service Unavailable"
    )
    for exc in (ccxt.ExchangeNotAvailable(signed), ccxt.ExchangeError(signed)):
        message = str(map_error(exc, "fetch_my_trades"))
        assert "signature" not in message and "9f86d08" not in message and "timestamp=" not in message
        assert "https://api.binance.com/api/v3/myTrades?..." in message
        assert message.endswith("503 Service Unavailable")


def test_policy_from_settings_and_bad_values() -> None:
    settings = ExchangeSettings(max_retries=2, backoff_s=0.25, backoff_max_s=4.0)
    made = RetryPolicy(settings)
    assert (made.max_retries, made.backoff.base_s, made.backoff.max_s) == (2, 0.25, 4.0)
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(ExchangeSettings(max_retries=-1))
    with pytest.raises(ValueError, match="backoff"):
        RetryPolicy(ExchangeSettings(backoff_s=0))
    with pytest.raises(ValueError, match="ban_retries"):
        RetryPolicy(settings, ban_retries=-1)
