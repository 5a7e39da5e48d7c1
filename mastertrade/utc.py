"""Time in one shape across MasterTrade: timezone-aware UTC ``datetime`` values, epoch milliseconds
(market time, candle stamps) and ISO-8601 text with a ``Z`` suffix. The one place that converts
between them; ``market.timeframes.to_iso`` and ``parse_when`` build on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def iso(value: datetime, timespec: str = "auto") -> str:
    """ISO-8601 with ``Z`` for UTC (an aware value is converted to UTC first; a naive one, as some
    databases hand back, is taken as UTC already)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.isoformat(timespec=timespec).replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """ISO-8601 text (``Z`` or an offset; none is taken as UTC) as an aware UTC datetime. Raises
    ``ValueError`` on text that is not ISO-8601."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def to_ms(value: datetime) -> int:
    """An aware datetime (a naive one is taken as UTC) as epoch milliseconds, exactly (whole
    milliseconds, rounded down; no float on the way)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _MS


def from_s(seconds: float) -> datetime:
    """Epoch seconds (``time.time()``) as an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, tz=UTC)


def from_ms(ms: float) -> datetime:
    """Epoch milliseconds as an aware UTC datetime."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def iso_ms(ms: int) -> str:
    """Epoch milliseconds as ISO-8601 UTC, to the second (or the millisecond when it has them)."""
    return iso(from_ms(ms), "milliseconds" if ms % 1000 else "seconds")
