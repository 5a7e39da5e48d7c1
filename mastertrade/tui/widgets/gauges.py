"""Gauge lines: a usage against its limit as a bar that turns amber near the limit and red at it."""

from __future__ import annotations

from rich.text import Text
from textual.app import App

from mastertrade.tui import format as fmt
from mastertrade.tui.widgets.glyphs import bar
from mastertrade.tui.widgets.theme import tone

WARN_AT = 0.7  # of the limit
FIGURES = 13  # columns for "12.3% / 80%", so the bars of a panel line up


def usage_tone(app: App[object], used: float | None, limit: float | None) -> str:
    if used is None or not limit:
        return "text-muted"
    ratio = used / limit
    return "text-success" if ratio < WARN_AT else "text-warning" if ratio < 1 else "text-error"


def gauge(
    app: App[object],
    label: str,
    used: float | None,
    limit: float | None,
    width: int,
    *,
    label_width: int = 11,
    shown: str | None = None,
    limit_shown: str | None = None,
) -> Text:
    """``label  ██████░░░░  32.0% / 80%``: the bar spans 0..limit; ``shown`` overrides the figures."""
    bare = shown if shown is not None else f"{fmt.pct(used)} / {limit_shown or fmt.pct(limit, 0)}"
    figures = bare.rjust(FIGURES)
    bar_width = width - label_width - len(figures) - 1
    if bar_width < 4:  # a narrow panel: the bar gives way (then the alignment), never the figures
        figures = bare
        bar_width = max(0, width - label_width - len(figures) - 1)
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(label[:label_width].ljust(label_width), tone(app, "text-muted"))
    fraction = used / limit if used is not None and limit else None
    style = tone(app, usage_tone(app, used, limit))
    filled = bar(fraction, bar_width).rstrip(" ")
    line.append(filled, style)
    line.append("░" * (bar_width - len(filled)), tone(app, "text-muted"))
    line.append(" " + figures, style)
    return line
