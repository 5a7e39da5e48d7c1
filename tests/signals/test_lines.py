"""``signals.lines``: the engine's indicators as chart lines (what ``GET /v1/indicators`` serves and the
dashboard overlays): the specs, and the values matching their definitions."""

from __future__ import annotations

import math

import pytest

from mastertrade.engine.signals.lines import indicator_lines, parse_line
from mastertrade.errors import UserInputError
from tests.backtest.helpers import candles


def test_moving_averages_match_their_definitions() -> None:
    closes = [float(v) for v in [3, 5, 4, 6, 8, 7, 9, 10, 12, 11]]
    frame = candles([(c, c, c, c) for c in closes])
    sma3, smoothed, upper, lower = indicator_lines(
        frame,
        [
            "sma(length=3)",
            "ema(length=4)",
            "bbands(length=5, std=2.0).upper",
            "bbands(length=5, std=2.0).lower",
        ],
    )
    assert sma3[:2] == [None, None]
    assert sma3[2:] == pytest.approx([sum(closes[i - 2 : i + 1]) / 3 for i in range(2, 10)])
    assert smoothed[:3] == [None] * 3 and smoothed[3] == pytest.approx(sum(closes[:4]) / 4)
    expected = smoothed[3]
    assert expected is not None
    for i in range(4, 10):
        expected = 0.4 * closes[i] + 0.6 * expected
        assert smoothed[i] == pytest.approx(expected)
    window = closes[5:10]
    mean = sum(window) / 5
    deviation = math.sqrt(sum((v - mean) ** 2 for v in window) / 5)
    assert upper[9] == pytest.approx(mean + 2 * deviation) and lower[9] == pytest.approx(mean - 2 * deviation)


def test_specs_parse_and_bad_ones_name_themselves() -> None:
    assert parse_line("sma(length=20)") == ("sma", {"length": 20}, None)
    assert parse_line(" bbands( length=20 , std=2.5 ).upper ") == (
        "bbands",
        {"length": 20, "std": 2.5},
        "upper",
    )
    assert parse_line("obv") == ("obv", {}, None)
    with pytest.raises(UserInputError, match="invalid line 'sma length'"):
        parse_line("sma length")
    with pytest.raises(UserInputError, match="parameter '20' is not name=value"):
        parse_line("sma(20)")
    frame = candles([(1.0, 1.0, 1.0, 1.0)] * 5)
    with pytest.raises(UserInputError, match="unknown indicator 'smaa'"):
        indicator_lines(frame, ["smaa(length=3)"])
    with pytest.raises(UserInputError, match="bbands"):
        indicator_lines(frame, ["bbands(length=3).middle"])
