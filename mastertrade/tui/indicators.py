"""The chart's overlays, computed on the few hundred closes a chart holds (plain Python: the dashboard
does not load pandas for a moving average). Each returns one value per close, None while warming up.

``OVERLAY_SETS`` is what the Market screen cycles through with its indicators key.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

Line = list[float | None]


def sma(closes: Sequence[float], length: int) -> Line:
    out: Line = [None] * len(closes)
    total = 0.0
    for i, value in enumerate(closes):
        total += value
        if i >= length:
            total -= closes[i - length]
        if i >= length - 1:
            out[i] = total / length
    return out


def ema(closes: Sequence[float], length: int) -> Line:
    out: Line = [None] * len(closes)
    if len(closes) < length:
        return out
    alpha = 2 / (length + 1)
    value = sum(closes[:length]) / length  # seeded with the SMA, as pandas-ta does
    out[length - 1] = value
    for i in range(length, len(closes)):
        value = alpha * closes[i] + (1 - alpha) * value
        out[i] = value
    return out


def bollinger(closes: Sequence[float], length: int = 20, width: float = 2.0) -> tuple[Line, Line]:
    """Upper and lower bands: the SMA plus and minus ``width`` population standard deviations."""
    upper: Line = [None] * len(closes)
    lower: Line = [None] * len(closes)
    for i in range(length - 1, len(closes)):
        window = closes[i - length + 1 : i + 1]
        mean = sum(window) / length
        deviation = math.sqrt(sum((value - mean) ** 2 for value in window) / length)
        upper[i], lower[i] = mean + width * deviation, mean - width * deviation
    return upper, lower


Overlay = tuple[str, Line]
OverlaySet = tuple[str, Callable[[Sequence[float]], list[Overlay]]]


def _ma_pair(closes: Sequence[float]) -> list[Overlay]:
    return [("SMA20", sma(closes, 20)), ("EMA50", ema(closes, 50))]


def _bands(closes: Sequence[float]) -> list[Overlay]:
    upper, lower = bollinger(closes)
    return [("BB20 upper", upper), ("SMA20", sma(closes, 20)), ("BB20 lower", lower)]


OVERLAY_SETS: list[OverlaySet] = [
    ("SMA20 + EMA50", _ma_pair),
    ("Bollinger 20,2", _bands),
    ("none", lambda closes: []),
]
