"""Time in one shape across MasterTrade: timezone-aware UTC ``datetime`` values, epoch milliseconds
(market time, candle stamps) and ISO-8601 text with a ``Z`` suffix. The one place that converts
between them; ``market.timeframes.to_iso`` and ``parse_when`` build on it."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(value: datetime, timespec: str = "auto") -> str:
    """ISO-8601 with ``Z`` for UTC (an aware value is converted to UTC first; a naive one, as some
    databases hand back, is taken as UTC already)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.isoformat(timespec=timespec).replace("+00:00", "Z")


def from_ms(ms: float) -> datetime:
    """Epoch milliseconds as an aware UTC datetime."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def iso_ms(ms: int) -> str:
    """Epoch milliseconds as ISO-8601 UTC, to the second (or the millisecond when it has them)."""
    return iso(from_ms(ms), "milliseconds" if ms % 1000 else "seconds")
