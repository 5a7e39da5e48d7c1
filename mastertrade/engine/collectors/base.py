"""The collector interface: what every alternative-data source is and how it fetches.

A collector is a small class: a ``name`` (the source id in storage and in ``mt data sources``), a
``description``, a default schedule and timeout, whether it needs an API key (and which setting holds
it), and one coroutine, ``collect(client, now)``, that fetches and returns ``FeaturePoint`` values. It
never writes, sleeps or retries itself: the collector service does that for every source alike (see
``service.py``), so a plugin stays a few dozen lines and cannot take the daemon down.

The HTTP client is handed in, so tests give the collector an ``httpx.AsyncClient`` over an
``httpx.MockTransport``. ``fetch`` and ``get_json`` turn HTTP trouble into the product's exceptions:
timeouts, dropped connections and 5xx into ``VenueUnavailable``, 429 into ``SourceRateLimited`` (with
the server's Retry-After), 401/403 into ``AuthenticationFailed``, unparsable payloads into
``DataValidationError``. Messages name the host and path, never the query or headers, where keys could
hide.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from mastertrade.engine.kernel.backoff import Backoff
from mastertrade.errors import (
    AuthenticationFailed,
    DataValidationError,
    MasterTradeError,
    OperationFailed,
    RateLimited,
    VenueUnavailable,
)

if TYPE_CHECKING:
    import httpx
    from pydantic import SecretStr

    from mastertrade.config import CollectorsSettings
    from mastertrade.engine.collectors.origins import Origin

T = TypeVar("T")
MINUTE_S = 60.0
HOUR_S = 3600.0
DAY_MS = 86_400_000
EPOCH_MS_FROM = 100_000_000_000
"""An epoch number at least this large is in milliseconds: as seconds it would fall in the year 5138, as
milliseconds it is 1973-03-03, so the two units cannot be confused for any time a source reports."""


@dataclass(frozen=True, slots=True)
class FeaturePoint:
    """One observation of a feature.

    ``ts`` is the moment the value describes (epoch ms, UTC): a bucket's start, a day, a block's time.
    ``published_at`` is the moment it could first be known, never earlier than ``ts``; alignment to bars
    uses it (see ``align.py``). ``symbol`` is a base asset ("BTC") or "" for market-wide series.
    """

    name: str
    value: float
    ts: int
    published_at: int
    symbol: str = ""

    def __post_init__(self) -> None:
        if not math.isfinite(self.value):
            raise DataValidationError(f"feature {self.name}: value {self.value!r} is not a finite number")
        if self.published_at < self.ts:
            raise DataValidationError(
                f"feature {self.name}: published_at {self.published_at} is before its time {self.ts}"
            )


SPREAD = (0.75, 1.25)
"""Collectors' retry delays vary 25% either way, so that sources failing together (the network went
down) do not all retry in the same second."""


class SourceRateLimited(RateLimited):
    """A source answered 429; ``retry_after_s`` is how long it asked us to wait, if it said."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Collector(ABC):
    """One alternative-data source. Subclasses set the class attributes and implement ``collect``.

    A collector is built from the ``[collectors]`` settings; per-source overrides of interval and timeout
    come from there. Instances may keep private state between polls (items already seen, open buckets):
    ``dump_state``/``load_state`` let the service persist it across restarts as JSON.
    """

    name: ClassVar[str]
    """Source id: lower-case letters, digits and underscores; stored with every value it collects."""

    description: ClassVar[str]
    """One line for ``mt data sources``."""

    default_interval_s: ClassVar[float] = 10 * MINUTE_S
    default_timeout_s: ClassVar[float] = 30.0

    key_setting: ClassVar[str | None] = None
    """Name of the ``[collectors]`` setting (or ``plugin_keys`` entry) holding this source's key;
    None for sources that need none. Without its key a source is disabled, not failing."""

    derived_from: Origin | None = None
    """What the current poll's values were derived from, stored with them (``origins.py``): the simulated
    source derives its values from stored candles; a source that observes the world leaves it None."""

    def __init__(self, settings: CollectorsSettings) -> None:
        self.settings = settings
        self.problems: list[str] = []
        """Partial failures of the current poll (one feed of several failed): the service clears it
        before each poll and shows it as the reason beside an ``ok`` state."""

    @property
    def interval_s(self) -> float:
        return float(self.settings.intervals.get(self.name, self.default_interval_s))

    @property
    def timeout_s(self) -> float:
        return float(self.settings.timeouts.get(self.name, self.default_timeout_s))

    @property
    def backoff(self) -> Backoff:
        base = min(self.settings.backoff_s, self.interval_s)
        return Backoff(base_s=base, max_s=max(base, self.settings.backoff_max_s), spread=SPREAD)

    @property
    def needs_key(self) -> bool:
        return self.key_setting is not None

    @property
    def key(self) -> SecretStr | None:
        if self.key_setting is None:
            return None
        value = getattr(self.settings, self.key_setting, None)
        if value is None:
            value = self.settings.plugin_keys.get(self.key_setting)
        if value is None or not value.get_secret_value().strip():
            return None
        return value

    def secret(self) -> str:
        """The key in clear, for a request header only (never a URL, a log line or a message)."""
        key = self.key
        if key is None:
            raise AuthenticationFailed(f"{self.name}: no key configured (collectors.{self.key_setting})")
        return key.get_secret_value().strip()

    def disabled_reason(self) -> str | None:
        """Why this source does not run, or None when it does."""
        if self.name in self.settings.disabled:
            return "switched off in config (collectors.disabled)"
        if self.needs_key and self.key is None:
            env = f"MT_COLLECTORS__{(self.key_setting or '').upper()}"
            return f"no key: set collectors.{self.key_setting} (or {env})"
        return None

    @abstractmethod
    async def collect(self, client: httpx.AsyncClient, now: int) -> list[FeaturePoint]:
        """Fetch the source once at ``now`` (epoch ms) and return what it observed."""

    async def gather(self, parts: Sequence[tuple[str, Callable[[], Awaitable[list[T]]]]]) -> list[T]:
        """Run independent parts of a poll (one feed, one endpoint) and join their results.

        A failing part is noted in ``problems`` and the others still count; only when every part fails
        does the poll fail, with the first part's error (so a rate limit's Retry-After is obeyed).
        """
        results: list[T] = []
        failures: list[MasterTradeError] = []
        for label, part in parts:
            try:
                results += await part()
            except MasterTradeError as exc:
                failures.append(exc)
                self.problems.append(f"{label}: {exc}")
        if parts and len(failures) == len(parts):
            raise failures[0]
        return results

    def dump_state(self) -> dict[str, Any]:
        """Private state worth keeping across restarts (JSON-serialisable); empty by default."""
        return {}

    def load_state(self, state: dict[str, Any]) -> None:  # noqa: B027 - an optional hook, not abstract
        """Restore what ``dump_state`` returned; a malformed state must be ignored, not raised."""


def _where(url: httpx.URL) -> str:
    return f"{url.host}{url.path}"


def retry_after_seconds(response: httpx.Response, now: datetime | None = None) -> float | None:
    """How long a 429 asked us to wait: ``Retry-After`` (seconds or an HTTP date) or Reddit's
    ``x-ratelimit-reset`` (seconds)."""
    for header in ("retry-after", "x-ratelimit-reset"):
        value = response.headers.get(header)
        if not value:
            continue
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
    return None


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """GET ``url`` and return the response if it is a 2xx; otherwise raise the matching error."""
    import httpx  # here, not at import: reading stored features (a search, a backtest) never fetches

    request_url = httpx.URL(url)
    try:
        response = await client.get(url, params=params, headers=headers)
    except httpx.TimeoutException:
        raise VenueUnavailable(f"timeout from {_where(request_url)}") from None
    except httpx.TransportError as exc:
        reason = type(exc).__name__
        raise VenueUnavailable(f"cannot reach {_where(request_url)}: {reason}") from None
    where = _where(response.request.url)
    status = response.status_code
    if status == 429:
        wait = retry_after_seconds(response)
        hint = f" (retry after {wait:.0f} s)" if wait is not None else ""
        raise SourceRateLimited(f"rate limited by {where}{hint}", wait)
    if status in (401, 403):
        raise AuthenticationFailed(f"HTTP {status} from {where}: key missing, wrong or not allowed")
    if status >= 500:
        raise VenueUnavailable(f"HTTP {status} from {where}")
    if status >= 400 or status < 200:
        raise OperationFailed(f"HTTP {status} from {where}")
    return response


async def get_json(
    client: httpx.AsyncClient,
    url: str,
    *,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """GET a JSON document (see ``fetch`` for errors); malformed JSON raises ``DataValidationError``."""
    response = await fetch(client, url, params=params, headers=headers)
    try:
        return response.json()
    except ValueError:
        raise DataValidationError(f"malformed JSON from {_where(response.request.url)}") from None


def expect(condition: bool, source: str, what: str) -> None:
    """Reject a payload whose shape is not the documented one, naming what was wrong."""
    if not condition:
        raise DataValidationError(f"{source}: unexpected payload: {what}")


def as_dict(value: Any, source: str, what: str) -> dict[str, Any]:
    """``value`` if it is a JSON object, else a ``DataValidationError`` naming ``what``."""
    if not isinstance(value, dict):
        raise DataValidationError(f"{source}: unexpected payload: {what} is not an object")
    return value


def as_list(value: Any, source: str, what: str) -> list[Any]:
    """``value`` if it is a JSON array, else a ``DataValidationError`` naming ``what``."""
    if not isinstance(value, list):
        raise DataValidationError(f"{source}: unexpected payload: {what} is not a list")
    return value


def as_float(value: Any, source: str, what: str) -> float:
    """A finite number from a JSON field that may arrive as a number or a numeric string."""
    if isinstance(value, bool):
        raise DataValidationError(f"{source}: unexpected payload: {what} is {value!r}, not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DataValidationError(
            f"{source}: unexpected payload: {what} is {value!r}, not a number"
        ) from None
    if not math.isfinite(number):
        raise DataValidationError(f"{source}: unexpected payload: {what} is {value!r}")
    return number


def days_to_fetch(recent_days: int, polled_at: int | None, now: int) -> int:
    """How many days back a poll of a daily series asks for: its usual ``recent_days``, or more after a
    gap since the last successful poll at ``polled_at`` (the daemon was down, the source failing), so
    the days in between are fetched rather than lost."""
    if polled_at is None or polled_at >= now:
        return recent_days
    return max(recent_days, -(-(now - polled_at) // DAY_MS) + 1)


def epoch_ms(value: Any, source: str, what: str) -> int:
    """Epoch milliseconds from a JSON field holding epoch seconds or epoch milliseconds (a number or a
    numeric string). Providers document one unit and some change it, or send the other one from a
    different endpoint: read by the documented unit, a millisecond time became a date thousands of
    years ahead (its values dropped as not yet published) and a second one a date in January 1970."""
    number = as_float(value, source, what)
    return int(round(number if abs(number) >= EPOCH_MS_FROM else number * 1000))
