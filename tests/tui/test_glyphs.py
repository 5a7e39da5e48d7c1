"""Text pictures (sparklines, bars, braille lines, candle halves)."""

from __future__ import annotations

import math

import pytest

from mastertrade.tui.widgets.glyphs import (
    CANDLE_GLYPHS,
    SPARK,
    bar,
    braille_line,
    candle_halves,
    nice_step,
    sparkline,
)


def test_sparkline_spans_the_blocks_from_min_to_max() -> None:
    assert sparkline([1, 2, 3, 4, 5, 6, 7, 8], 8) == SPARK
    assert sparkline([5, 5, 5], 10) == SPARK[3] * 3
    assert sparkline([1.0, float("nan"), 3.0], 5) == SPARK[0] + SPARK[-1]
    assert len(sparkline(list(range(100)), 14)) == 14


@pytest.mark.parametrize(
    ("fraction", "expected"),
    [(0, "    "), (0.5, "██  "), (1, "████"), (2, "████"), (0.125, "▌   "), (None, "····")],
)
def test_bar_fills_in_eighths(fraction: float | None, expected: str) -> None:
    assert bar(fraction, 4) == expected


def dots(rows: list[str]) -> set[tuple[int, int]]:
    """(x, y) of every braille dot set, in dot coordinates."""
    bits = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
    found = set()
    for row, line in enumerate(rows):
        for col, char in enumerate(line):
            value = ord(char) - 0x2800
            for dx in range(2):
                for dy in range(4):
                    if value & bits[dx][dy]:
                        found.add((col * 2 + dx, row * 4 + dy))
    return found


def test_braille_line_is_continuous_and_spans_its_range() -> None:
    values = [math.sin(i / 5) for i in range(200)]
    rows = braille_line(values, 30, 6, min(values), max(values))
    assert len(rows) == 6 and all(len(row) == 30 for row in rows)
    points = dots(rows)
    assert {x for x, _ in points} == set(range(60))  # a dot in every pixel column: no gaps
    assert min(y for _, y in points) == 0 and max(y for _, y in points) == 23
    for x in range(59):  # neighbouring columns touch vertically (steep moves are filled)
        here = {y for px, y in points if px == x}
        there = {y for px, y in points if px == x + 1}
        assert min(abs(a - b) for a in here for b in there) <= 1


def test_braille_line_of_one_value_and_of_nothing() -> None:
    assert dots(braille_line([5.0], 4, 2, 5.0, 5.0))
    assert braille_line([], 3, 2, 0, 1) == ["⠀⠀⠀", "⠀⠀⠀"]


def test_candle_halves() -> None:
    # open 10, close 12, wicks from 9 to 13; a body ending on a half's edge does not paint that half
    assert candle_halves(10, 13, 9, 12, row_top=13, row_bottom=12) == ("wick", "wick")
    assert candle_halves(10, 13, 9, 12, row_top=12, row_bottom=10) == ("body", "body")
    assert candle_halves(10, 13, 9, 12, row_top=10.5, row_bottom=9.5) == ("body", "wick")
    assert candle_halves(10, 13, 9, 12, row_top=9.5, row_bottom=8.5) == ("wick", "")
    assert candle_halves(10, 13, 9, 12, row_top=20, row_bottom=19) == ("", "")
    assert len(set(CANDLE_GLYPHS.values())) == 9


def test_nice_steps_are_round() -> None:
    assert nice_step(1000, 4) == 250
    assert nice_step(7, 3) == 2.5
    assert nice_step(0.03, 3) == 0.01
