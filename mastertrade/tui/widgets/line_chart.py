"""``LineChart``: a series (an equity curve) as a braille line with its range on the right.

The headline carries the title, the last value and the change over the span shown (a title ending in a
colon names that value: "history to 11-24 11:00: 10,861.41 +8.61%"); a ``note`` says
where the data comes from or why there is none (e.g. "session samples: the daemon serves no equity
history"), so an empty or partial chart is never mistaken for a flat one.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widget import Widget

from mastertrade.tui import format as fmt
from mastertrade.tui.widgets.glyphs import braille_line, finite
from mastertrade.utc import from_ms

AXIS = 11


class LineChart(Widget):
    DEFAULT_CSS = """
    LineChart { height: 1fr; min-height: 3; text-wrap: nowrap; text-overflow: ellipsis; }
    LineChart > .line-chart--line { color: $accent; }
    LineChart > .line-chart--up { color: $success; }
    LineChart > .line-chart--down { color: $error; }
    LineChart > .line-chart--axis { color: $text-muted; }
    LineChart > .line-chart--title { text-style: bold; }
    LineChart > .line-chart--stale { color: $warning; text-style: bold; }
    """
    COMPONENT_CLASSES = {
        "line-chart--line",
        "line-chart--up",
        "line-chart--down",
        "line-chart--axis",
        "line-chart--title",
        "line-chart--stale",
    }

    def __init__(
        self, title: str = "", *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.title = title
        self.short_title = ""
        """The title in fewer words, taken where the full one would push the figures past the edge."""
        self.values: list[float] = []
        self.times: list[int] = []
        self.note = ""
        self.stale = False
        self.digits = 2

    def show(
        self,
        values: Sequence[float],
        times: Sequence[int] = (),
        *,
        title: str | None = None,
        short_title: str = "",
        note: str = "",
        stale: bool = False,
    ) -> None:
        """Draw ``values`` (oldest first; ``times`` in epoch ms label the ends) on the next refresh."""
        if title is not None:
            self.title = title
            self.short_title = short_title
        self.values = finite(values)
        self.times = list(times) if len(times) == len(values) else []
        self.note = note
        self.stale = stale
        self.refresh()

    def render(self) -> Text:
        style = self.get_component_rich_style
        width, height = self.size.width, self.size.height
        text = Text(no_wrap=True, overflow="crop")
        values = self.values
        value = change = ""
        if values:
            first, last = values[0], values[-1]
            value, change = headline_figures(first, last)
        figures = f"{value} {change}"
        title = self.title
        if self.short_title and len(title) + len(figures) + 2 > width:
            title = self.short_title
        text.append(title, style("line-chart--title"))
        if self.stale:
            text.append("  STALE", style("line-chart--stale"))
        if values:
            kind = "line-chart--up" if values[-1] >= values[0] else "line-chart--down"
            # a title that ends in a colon names the figure after it ("history to 11:00: 10,861.41")
            lead = " " if title.endswith(":") and not self.stale else "  "
            text.append(f"{lead}{value}", style(kind))
            text.append(f" {change}", style(kind))
        if self.note:
            text.append(f"  {self.note}", style("line-chart--axis"))
        rows = height - (2 if self.times else 1)
        cols = width - AXIS
        if not values or rows < 1 or cols < 4:
            if not values and not self.note:
                text.append("\n")
                text.append("no data yet", style("line-chart--axis"))
            return text
        low, high = min(values), max(values)
        lines = braille_line(values, cols, rows, low, high)
        labels = {0: fmt.fit(high, AXIS - 2), rows - 1: fmt.fit(low, AXIS - 2)}
        if rows >= 5:
            labels[rows // 2] = fmt.fit((high + low) / 2, AXIS - 2)
        axis = style("line-chart--axis")
        for row, line in enumerate(lines):
            text.append("\n")
            text.append(line, style("line-chart--line"))
            label = labels.get(row)
            text.append(("┤" + label.rjust(AXIS - 1)) if label else "│", axis)
        if self.times:
            text.append("\n")
            start, end = axis_ends(self.times[0], self.times[-1])
            gap = max(1, cols - len(start) - len(end))
            text.append(start + " " * gap + end, axis)
        return text


def headline_figures(first: float, last: float) -> tuple[str, str]:
    """The headline's last value and change over the span; a figure of more than 16 cells in powers of
    ten ("7.853e+27 +7.853e+25%"), so the change is not pushed past the edge by 28 digits of equity."""
    value = fmt.money(last)
    if len(value) > 16:
        value = fmt.fit(last, 10)
    ratio = (last - first) / first if first else None
    change = fmt.signed_pct(ratio)
    if ratio is not None and len(change) > 16:
        change = f"{ratio * 100:+.3e}%"
    return value, change


def axis_ends(first_ms: int, last_ms: int) -> tuple[str, str]:
    """The labels of the time axis' ends, as precise as the span needs: to the second under two hours,
    to the minute within a year's month-day, and dates with their year beyond (a backtest over ten years
    read "12-22 00:00 … 01-19 00:00", a month)."""
    span = last_ms - first_ms
    if span < 2 * 3_600_000:
        pattern = "%H:%M:%S"
    elif span < LONG_SPAN_MS:
        pattern = "%m-%d %H:%M"
    else:
        pattern = "%Y-%m-%d"
    return from_ms(first_ms).strftime(pattern), from_ms(last_ms).strftime(pattern)


LONG_SPAN_MS = 60 * 86_400_000
"""From this span on, the axis shows dates with their year (days and hours no longer tell apart)."""
