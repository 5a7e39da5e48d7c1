"""Gauge lines: a usage against its limit as a bar that turns amber near the limit and red at it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Usage:
    """One gauge line: ``used`` against ``limit``, the bar spanning 0..limit; ``shown`` replaces the
    figures (``32.0% / 80%``)."""

    label: str
    used: float | None
    limit: float | None
    shown: str | None = None

    @property
    def figures(self) -> str:
        return self.shown if self.shown is not None else f"{fmt.pct(self.used)} / {fmt.pct(self.limit, 0)}"


def gauges(app: App[object], usages: Sequence[Usage], width: int, *, label_width: int = 11) -> list[Text]:
    """``label  ██████░░░░  32.0% / 80%``, a line per usage, their bars lined up: the figures right-aligned
    in ``FIGURES`` columns, or in the widest of them when that leaves a bar under 4 cells (a narrow
    panel: the bars shrink, down to none, and never a figure)."""
    column = FIGURES
    if width - label_width - FIGURES - 1 < 4:
        column = max((len(usage.figures) for usage in usages), default=0)
    return [_gauge(app, usage, width, label_width, column) for usage in usages]


def _gauge(app: App[object], usage: Usage, width: int, label_width: int, column: int) -> Text:
    figures = usage.figures.rjust(column)
    bar_width = max(0, width - label_width - len(figures) - 1)
    used, limit = usage.used, usage.limit
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(usage.label[:label_width].ljust(label_width), tone(app, "text-muted"))
    fraction = used / limit if used is not None and limit else None
    style = tone(app, usage_tone(app, used, limit))
    filled = bar(fraction, bar_width).rstrip(" ")
    line.append(filled, style)
    line.append("░" * (bar_width - len(filled)), tone(app, "text-muted"))
    line.append(" " + figures, style)
    return line
