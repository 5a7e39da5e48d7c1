"""The chart's overlay sets: which of the engine's indicator lines the Market screen draws (its
indicators key cycles through them). The values come from the daemon (``GET /v1/indicators``,
``signals.lines``), computed by the indicator code the strategies use: the dashboard computes none.

Each set is a label and its lines, each a display name and a line spec.
"""

from __future__ import annotations

Line = list[float | None]
Overlay = tuple[str, Line]
OverlaySet = tuple[str, list[tuple[str, str]]]

OVERLAY_SETS: list[OverlaySet] = [
    ("SMA20 + EMA50", [("SMA20", "sma(length=20)"), ("EMA50", "ema(length=50)")]),
    (
        "Bollinger 20,2",
        [
            ("BB20 upper", "bbands(length=20, std=2.0).upper"),
            ("SMA20", "sma(length=20)"),
            ("BB20 lower", "bbands(length=20, std=2.0).lower"),
        ],
    ),
    ("none", []),
]
