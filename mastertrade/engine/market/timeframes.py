"""Candle timeframes ("1m", "4h", "1d" ...) and timestamp arithmetic on them.

Timestamps are integer milliseconds since the Unix epoch, UTC, as ccxt uses them; a candle's
timestamp is the open time of its bar.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from mastertrade.errors import UserInputError
from mastertrade.utc import iso_ms, parse_iso, to_ms

_UNIT_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_PATTERN = re.compile(r"(\d+)([mhdw])")


def timeframe_ms(timeframe: str) -> int:
    """Length of one bar in milliseconds; a clear error for anything that is not a timeframe. Any spelling
    of a length is read (``60m``, ``01h``: a series stored under one before they were refused); what a
    user types goes through :func:`check_timeframe`."""
    match = _PATTERN.fullmatch(timeframe)
    if not match or int(match.group(1)) == 0:
        raise UserInputError(
            f"invalid timeframe {timeframe!r}: expected a number and a unit m/h/d/w, like 1m, 15m, 1h, 1d"
        )
    step = int(match.group(1)) * _UNIT_MS[match.group(2)]
    if step > LONGEST_MS:
        raise UserInputError(f"invalid timeframe {timeframe!r}: a bar is at most a year long (365d)")
    return step


LONGEST_MS = 365 * _UNIT_MS["d"]
"""The longest bar: no exchange or data file has longer ones (the longest are monthly), and a bar of
centuries (``1234567890m``) ran the simulator's feature draws past numpy's limits, ending in a traceback."""


def canonical_timeframe(timeframe: str) -> str:
    """The one spelling of this bar length: no leading zero, in the largest unit that divides it (``60m``
    is ``1h``, ``24h`` is ``1d``, ``7d`` is ``1w``; ``90m`` stays ``90m``), as ccxt and exchanges spell it."""
    step = timeframe_ms(timeframe)
    unit = next(unit for unit in "wdhm" if step % _UNIT_MS[unit] == 0)
    return f"{step // _UNIT_MS[unit]}{unit}"


def check_timeframe(timeframe: str, *, what: str = "timeframe") -> str:
    """``timeframe`` itself when it is a timeframe spelled the one way; ``UserInputError`` naming ``what``
    (``--timeframe``, a config field) and the spelling to write otherwise. Candles, features, strategies
    and the trial registry are stored under the timeframe's text, so ``60m`` beside ``1h`` would start a
    second series of the same bars; it is refused, never rewritten on the user's behalf. Reading what is
    already stored takes any spelling (:func:`timeframe_ms`), so a series stored under one stays reachable."""
    canonical = canonical_timeframe(timeframe)
    if canonical != timeframe:
        raise UserInputError(f"{what} {timeframe}: write it as {canonical}")
    return timeframe


def floor_ts(ts_ms: int, timeframe: str) -> int:
    """The open time of the bar that contains ``ts_ms``."""
    step = timeframe_ms(timeframe)
    return ts_ms - ts_ms % step


def bars_per_year(timeframe: str) -> float:
    """How many bars of this timeframe a 365-day year holds (crypto trades every day)."""
    return 365 * 86_400_000 / timeframe_ms(timeframe)


def now_ms() -> int:
    return to_ms(datetime.now(UTC))


def to_iso(ts_ms: int) -> str:
    """ISO-8601 UTC with a Z suffix, to the second (or millisecond when it has them)."""
    return iso_ms(ts_ms)


_SECONDS = (10**9, 10**10)
"""Epoch seconds of 2001-09-09 .. 2286-11-20: as milliseconds, days of early 1970 that no one means."""

_LAST_MS = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z, the last moment a date can name: a larger number is no time at all."""


def parse_when(text: str, *, what: str = "date") -> int:
    """Parse an ISO-8601 date or datetime (UTC unless it says otherwise) or epoch milliseconds. A number
    the size of epoch seconds of our times is refused: read as milliseconds it named a day of January
    1970, and `mt data delete --since 1714000000 --yes` deleted the whole series."""
    value = text.strip()
    if value.isdigit():
        if _SECONDS[0] <= int(value) < _SECONDS[1]:
            raise UserInputError(
                f"invalid {what} {text!r}: epoch seconds? ({iso_ms(int(value) * 1000)}); give epoch "
                f"milliseconds ({int(value) * 1000}) or ISO-8601 like 2024-01-31"
            )
        if int(value) > _LAST_MS:  # printing it as a date ended in a traceback
            raise UserInputError(
                f"invalid {what} {text!r}: as epoch milliseconds it is past the year 9999; give epoch"
                " milliseconds or ISO-8601 like 2024-01-31"
            )
        return int(value)
    try:
        return to_ms(parse_iso(value))
    except ValueError:
        raise UserInputError(
            f"invalid {what} {text!r}: expected ISO-8601 like 2024-01-31 or 2024-01-31T12:00:00Z"
        ) from None
