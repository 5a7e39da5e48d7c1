"""How numbers and times read on the dashboard: fixed widths where columns line up, UTC everywhere."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from mastertrade.utc import from_ms, from_s

DASH = "–"


def money(value: float | None, digits: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return DASH
    return f"{value:,.{digits}f}"


def signed_money(value: float | None, digits: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return DASH
    return f"{value:+,.{digits}f}"


def price(value: float | None) -> str:
    """A price with about six significant digits (20,264.78; 171.0074; 0.00012345)."""
    if value is None or not math.isfinite(value):
        return DASH
    size = abs(value)
    if size >= 1000:
        return f"{value:,.2f}"
    if size >= 1:
        return f"{value:,.4f}"
    if size == 0:
        return "0"
    return f"{value:.{min(10, 3 - math.floor(math.log10(size)) + 2)}f}"


def pct(fraction: float | None, digits: int = 1) -> str:
    """A fraction as a percentage (0.125 -> 12.5%)."""
    if fraction is None or not math.isfinite(fraction):
        return DASH
    shown = f"{fraction * 100:.{digits}f}"
    if shown.startswith("-") and not shown.strip("-0."):
        shown = shown[1:]  # -0.0002 is "0%", not "-0%"
    return f"{shown}%"


def signed_pct(fraction: float | None, digits: int = 2) -> str:
    if fraction is None or not math.isfinite(fraction):
        return DASH
    return f"{fraction * 100:+.{digits}f}%"


def amount(value: float | None) -> str:
    """A quantity of a base asset, without trailing zeros (0.0125, 3, 1,250.5)."""
    if value is None or not math.isfinite(value):
        return DASH
    if abs(value) >= 1000:
        return f"{value:,.2f}"
    return f"{value:.8f}".rstrip("0").rstrip(".") or "0"


def order_amount(value: float, equity_fraction: float | None = None) -> str:
    """An order event's amount. A strategy's entry sized as a share of equity gets its amount at the
    fill, so its placed (or refused) event carries none (0): it says which share ("50% of equity"), or
    that it is sized at the fill, instead of "0"."""
    if value > 0:
        return amount(value)
    if equity_fraction is not None and equity_fraction > 0:
        return f"{equity_fraction * 100:.4g}% of equity"
    return "(sized at fill)"


def clip(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells; a shortened text ends in an ellipsis, so it is never taken
    for the whole (a price cut to its first digits reads as another price)."""
    if len(text) <= width:
        return text
    return text[: width - 1] + "…" if width > 0 else ""


def fit(value: float, width: int, digits: int = 2) -> str:
    """``value`` in at most ``width`` cells, never cut into another number (an axis label cut to its
    first cells read "7,853,459" for 7.85e27): with ``digits`` decimals when they fit, else fewer, else
    in thousands, millions ... (69.0B), else in powers of ten (7.853e+27, 1.234e-12)."""
    if not math.isfinite(value):
        return clip(DASH, width)
    text = f"{value:,.{digits}f}"
    if len(text) <= width and (value == 0 or float(text.replace(",", "")) != 0):
        return text
    size = abs(value)
    if size >= 1:
        for places in range(digits - 1, -1, -1):
            text = f"{value:,.{places}f}"
            if len(text) <= width:
                return text
        if 1000 <= size < 1e15 and len(text := compact(value)) <= width:  # not "186818.9T"
            return text
    elif size > 0:
        places = width - 2 - (value < 0)
        if places > 0 and size >= 10.0 ** -(places - 1):  # two significant digits at least
            return f"{value:.{places}f}"
    for places in range(3, -1, -1):
        text = f"{value:.{places}e}"
        if len(text) <= width:
            return text
    return clip(text, width)


def compact(value: float | None) -> str:
    """A large number in four or five characters (950, 12.3k, 4.56M, 1.2B, 3.40T)."""
    if value is None or not math.isfinite(value):
        return DASH
    size = abs(value)
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            scaled = value / limit
            return f"{scaled:.1f}{suffix}" if abs(scaled) >= 10 else f"{scaled:.2f}{suffix}"
    return f"{value:.0f}"


def clock(at: float | datetime | None) -> str:
    """A time of day, UTC (HH:MM:SS)."""
    if at is None:
        return DASH
    moment = at if isinstance(at, datetime) else from_s(at)
    return moment.astimezone(UTC).strftime("%H:%M:%S")


def stamp(at: float | datetime | None) -> str:
    """A date and time, UTC, to the minute (2026-11-24 09:04)."""
    if at is None:
        return DASH
    moment = at if isinstance(at, datetime) else from_s(at)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def day(at: datetime | None) -> str:
    if at is None:
        return DASH
    return at.astimezone(UTC).strftime("%Y-%m-%d")


def ms_short(ts_ms: int | None) -> str:
    """Epoch milliseconds as month-day and time, UTC (11-24 09:04): for table columns."""
    return DASH if ts_ms is None else short(from_ms(ts_ms))


def short(at: datetime | None) -> str:
    return DASH if at is None else at.astimezone(UTC).strftime("%m-%d %H:%M")


def ms_stamp(ts_ms: int | None) -> str:
    return DASH if ts_ms is None else stamp(ts_ms / 1000)


def age(seconds: float | None) -> str:
    """How long ago, short (4s, 3m, 2h, 5d)."""
    if seconds is None or not math.isfinite(seconds):
        return DASH
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86_400:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86_400:.0f}d"
