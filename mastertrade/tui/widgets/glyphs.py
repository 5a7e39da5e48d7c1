"""Text pictures of numbers, as plain functions (no widget, no clock): sparklines, gauges, braille line
charts and candlesticks. Widgets colour the results; tests check them character by character.

Candlesticks use box-drawing halves, so one text row shows two price steps: each half of a cell is
empty, wick (light line) or body (heavy line), which gives nine glyphs (``CANDLE_GLYPHS``).
Line charts use braille, 2 x 4 dots per cell.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

SPARK = "▁▂▃▄▅▆▇█"
EIGHTHS = " ▏▎▍▌▋▊▉█"

Half = Literal["", "wick", "body"]
CANDLE_GLYPHS: dict[tuple[Half, Half], str] = {
    ("body", "body"): "┃",
    ("body", "wick"): "╿",
    ("body", ""): "╹",
    ("wick", "body"): "╽",
    ("wick", "wick"): "│",
    ("wick", ""): "╵",
    ("", "body"): "╻",
    ("", "wick"): "╷",
    ("", ""): " ",
}

# braille dot bits by (x, y) inside a cell: x in 0..1, y in 0..3 from the top
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))


def finite(values: Sequence[float | None]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def sparkline(values: Sequence[float], width: int) -> str:
    """The last ``width`` values as block heights, scaled between their own min and max."""
    data = finite(values)[-width:] if width > 0 else []
    if not data:
        return ""
    low, high = min(data), max(data)
    if high == low:
        return SPARK[len(SPARK) // 2 - 1] * len(data)
    scale = (len(SPARK) - 1) / (high - low)
    return "".join(SPARK[round((value - low) * scale)] for value in data)


def bar(fraction: float | None, width: int) -> str:
    """A horizontal bar ``width`` cells long, filled to ``fraction`` (clamped to 0..1) in eighths."""
    if width <= 0:
        return ""
    if fraction is None or not math.isfinite(fraction):
        return "·" * width
    eighths = round(min(1.0, max(0.0, fraction)) * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (EIGHTHS[part] if part else "")
    return text + " " * (width - len(text))


def braille_line(values: Sequence[float], width: int, height: int, low: float, high: float) -> list[str]:
    """``values`` (oldest first) drawn left to right as a continuous braille line in ``height`` rows."""
    cols, rows = width * 2, height * 4
    cells = [[0] * width for _ in range(height)]
    data = finite(values)
    if width <= 0 or height <= 0 or not data:
        return ["⠀" * max(0, width) for _ in range(max(0, height))]
    span = high - low if high > low else 1.0

    def y_of(value: float) -> int:
        scaled = (value - low) / span if high > low else 0.5
        return min(rows - 1, max(0, rows - 1 - round(scaled * (rows - 1))))

    if len(data) > cols:  # the last value of each pixel column
        data = [data[min(len(data) - 1, ((i + 1) * len(data)) // cols - 1)] for i in range(cols)]
    count = len(data)
    points = [
        (round(i * (cols - 1) / (count - 1)) if count > 1 else cols - 1, y_of(v)) for i, v in enumerate(data)
    ]

    def dot(x: int, y: int) -> None:
        cells[y // 4][x // 2] |= _DOTS[x % 2][y % 4]

    previous = points[0]
    dot(*previous)
    for x, y in points[1:]:
        x0, y0 = previous
        for px in range(x0 + 1, x + 1):
            # the line between the points, with the vertical run filled so steep moves stay joined
            target = y0 + (y - y0) * (px - x0) / (x - x0)
            before = y0 + (y - y0) * (px - 1 - x0) / (x - x0)
            top, bottom = sorted((round(before), round(target)))
            for py in range(top, bottom + 1):
                dot(px, py)
        if x == x0:
            for py in range(min(y, y0), max(y, y0) + 1):
                dot(x, py)
        previous = (x, y)
    return ["".join(chr(0x2800 + bits) for bits in row) for row in cells]


def candle_halves(
    open_: float, high: float, low: float, close: float, row_top: float, row_bottom: float
) -> tuple[Half, Half]:
    """What the upper and lower half of a cell spanning prices ``row_bottom..row_top`` show."""
    middle = (row_top + row_bottom) / 2
    body_top, body_bottom = max(open_, close), min(open_, close)

    def overlaps(lo: float, hi: float, bottom: float, top: float) -> bool:
        # strictly inside, so a body ending on a half's edge does not paint it; a flat body (a doji)
        # paints the half it lies in
        return (lo < top and hi > bottom) or (lo == hi and bottom <= lo < top)

    def half(top: float, bottom: float) -> Half:
        if overlaps(body_bottom, body_top, bottom, top):
            return "body"
        if overlaps(low, high, bottom, top):
            return "wick"
        return ""

    return half(row_top, middle), half(middle, row_bottom)


def nice_step(span: float, target: int) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about ``target`` ticks over ``span``."""
    if span <= 0 or target <= 0:
        return 1.0
    raw = span / target
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power
