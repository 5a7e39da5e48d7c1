"""``CandleChart``: candlesticks of one series with overlays, entries and exits, drawn in text.

One candle takes two columns (one in dense mode); the newest bar sits at the right edge. A headline
gives the last bar's OHLC and the overlays' names in their colours, the right edge a price axis and the
bottom row times (UTC). Entries (buys) are marked ▲ under the bar's low and exits ▼ over its high:
filled for fills, hollow (△ ▽) for a strategy's signal. Redrawing is one pass over the visible cells,
so a chart at 160 x 48 renders in about a millisecond.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

from mastertrade.tui import format as fmt
from mastertrade.tui.indicators import Overlay
from mastertrade.tui.state import Bar, Marker
from mastertrade.tui.widgets.glyphs import CANDLE_GLYPHS, candle_halves, nice_step
from mastertrade.utc import from_ms

AXIS = 11  # columns of the price axis
OVERLAY_STYLES = 4


class CandleChart(Widget):
    DEFAULT_CSS = """
    CandleChart { height: 1fr; min-height: 6; text-wrap: nowrap; text-overflow: clip; }
    CandleChart > .candle-chart--up { color: $success; }
    CandleChart > .candle-chart--down { color: $error; }
    CandleChart > .candle-chart--axis { color: $text-muted; }
    CandleChart > .candle-chart--title { color: $text; text-style: bold; }
    CandleChart > .candle-chart--stale { color: $warning; text-style: bold; }
    CandleChart > .candle-chart--entry { color: $success; text-style: bold; }
    CandleChart > .candle-chart--exit { color: $error; text-style: bold; }
    CandleChart > .candle-chart--overlay-0 { color: $accent; }
    CandleChart > .candle-chart--overlay-1 { color: $text-primary; }
    CandleChart > .candle-chart--overlay-2 { color: $text-secondary; }
    CandleChart > .candle-chart--overlay-3 { color: $text-success; }
    """
    COMPONENT_CLASSES = {
        "candle-chart--up",
        "candle-chart--down",
        "candle-chart--axis",
        "candle-chart--title",
        "candle-chart--stale",
        "candle-chart--entry",
        "candle-chart--exit",
        *(f"candle-chart--overlay-{i}" for i in range(OVERLAY_STYLES)),
    }

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.title = ""
        self.bars: list[Bar] = []
        self.markers: list[Marker] = []
        self.overlays: list[Overlay] = []
        self.step_ms = 3_600_000
        self.dense = False
        self.note = ""
        self.stale = False
        self._strips: list[Strip] = []
        self._strips_for: tuple[int, int] | None = None

    def show(
        self,
        title: str,
        bars: Sequence[Bar],
        *,
        step_ms: int,
        markers: Sequence[Marker] = (),
        overlays: Sequence[Overlay] = (),
        note: str = "",
        stale: bool = False,
    ) -> None:
        """Draw these bars (overlays hold one value per bar) on the next refresh."""
        self.title = title
        self.bars = list(bars)
        self.step_ms = step_ms
        self.markers = list(markers)
        self.overlays = list(overlays)
        self.note = note
        self.stale = stale
        self._strips_for = None
        self.refresh()

    def toggle_dense(self) -> None:
        self.dense = not self.dense
        self._strips_for = None
        self.refresh()

    def render_line(self, y: int) -> Strip:
        """The picture of ``render`` as ready strips, rebuilt only after ``show`` or a resize (the chart
        changes a few times a second, the terminal asks for lines far more often)."""
        width, height = self.size.width, self.size.height
        if self._strips_for != (width, height):
            base = self.rich_style
            console = self.app.console
            self._strips = [
                Strip(list(line.render(console))).apply_style(base).adjust_cell_length(width, base)
                for line in self.render().split("\n", allow_blank=True)
            ]
            self._strips_for = (width, height)
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(width, self.rich_style)

    def render(self) -> Text:
        width, height = self.size.width, self.size.height
        text = Text(no_wrap=True, overflow="crop")
        style = self.get_component_rich_style
        text.append_text(self._headline(width))
        plot_rows = height - 2
        plot_cols = width - AXIS
        if plot_rows < 2 or plot_cols < 4 or not self.bars:
            text.append("\n")
            message = self.note or ("no candles yet" if not self.bars else "too small to draw")
            text.append(message, style("candle-chart--axis"))
            return text
        per_bar = 1 if self.dense else 2
        count = min(len(self.bars), plot_cols // per_bar)
        bars = self.bars[-count:]
        overlays = [(name, values[-count:]) for name, values in self.overlays]
        lows = [bar.low for bar in bars] + [v for _, values in overlays for v in values if v is not None]
        highs = [bar.high for bar in bars] + [v for _, values in overlays for v in values if v is not None]
        low, high = min(lows), max(highs)
        if high <= low:
            high, low = high * 1.001 + 1e-9, low * 0.999 - 1e-9
        pad = (high - low) * 0.04
        low, high = low - pad, high + pad
        row_span = (high - low) / plot_rows

        # the cells of the plot: a character and a style name each
        chars = [[" "] * plot_cols for _ in range(plot_rows)]
        styles: list[list[str | None]] = [[None] * plot_cols for _ in range(plot_rows)]
        offset = plot_cols - count * per_bar  # right-align the newest bar

        def row_of(price: float) -> int:
            return min(plot_rows - 1, max(0, math.floor((high - price) / row_span)))

        for name, values in overlays:
            for i, value in enumerate(values):
                if value is None:
                    continue
                col = offset + i * per_bar
                row = row_of(value)
                chars[row][col] = "·"
                styles[row][col] = self._overlay_style(name)
        for i, item in enumerate(bars):
            col = offset + i * per_bar
            kind = "candle-chart--up" if item.close >= item.open else "candle-chart--down"
            for row in range(row_of(item.high), row_of(item.low) + 1):
                top = high - row * row_span
                halves = candle_halves(item.open, item.high, item.low, item.close, top, top - row_span)
                glyph = CANDLE_GLYPHS[halves]
                if glyph != " ":
                    chars[row][col] = glyph
                    styles[row][col] = kind
        self._place_markers(bars, chars, styles, offset, per_bar, row_of)

        ticks = self._price_ticks(low, high, plot_rows, row_of)
        axis_style = style("candle-chart--axis")
        for row in range(plot_rows):
            text.append("\n")
            run_style: str | None = None
            run: list[str] = []
            for col in range(plot_cols):
                cell_style = styles[row][col]
                if cell_style != run_style and run:
                    text.append("".join(run), style(run_style) if run_style else None)
                    run = []
                run_style = cell_style
                run.append(chars[row][col])
            if run:
                text.append("".join(run), style(run_style) if run_style else None)
            label = ticks.get(row)
            text.append(("┤" + label.rjust(AXIS - 1)) if label else "│", axis_style)
        text.append("\n")
        text.append(self._time_axis(bars, offset, per_bar, plot_cols), axis_style)
        return text

    def _headline(self, width: int) -> Text:
        """Title, the last bar's OHLC and change, the overlays' last values; OHL go first when tight."""
        line = self._headline_text(full=True)
        if line.cell_len > width:
            line = self._headline_text(full=False)
        line.truncate(width, overflow="ellipsis")
        return line

    def _headline_text(self, *, full: bool) -> Text:
        style = self.get_component_rich_style
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(self.title, style("candle-chart--title"))
        if self.stale:
            line.append("  STALE", style("candle-chart--stale"))
        if self.bars:
            last = self.bars[-1]
            change = (last.close - last.open) / last.open if last.open else None
            kind = "candle-chart--up" if last.close >= last.open else "candle-chart--down"
            if full:
                line.append(f"  O {fmt.price(last.open)} H {fmt.price(last.high)} L {fmt.price(last.low)}")
            line.append("  C ")
            line.append(fmt.price(last.close), style(kind))
            line.append(f" {fmt.signed_pct(change)}", style(kind))
        for name, values in self.overlays:
            value = next((v for v in reversed(values) if v is not None), None)
            line.append(f"  {name} {fmt.price(value)}", style(self._overlay_style(name)))
        return line

    def _overlay_style(self, name: str) -> str:
        """One colour per family of overlays: a band's upper and lower lines ("BB20 upper") share it."""
        families = list(dict.fromkeys(item.split()[0] for item, _ in self.overlays))
        return f"candle-chart--overlay-{families.index(name.split()[0]) % OVERLAY_STYLES}"

    def _place_markers(
        self,
        bars: Sequence[Bar],
        chars: list[list[str]],
        styles: list[list[str | None]],
        offset: int,
        per_bar: int,
        row_of: Callable[[float], int],
    ) -> None:
        if not self.markers or not bars:
            return
        index = {item.ts: i for i, item in enumerate(bars)}
        rows = len(chars)
        for marker in self.markers:
            i = index.get(marker.ts - marker.ts % self.step_ms)
            if i is None:
                continue
            item, col = bars[i], offset + i * per_bar
            if marker.side == "buy":
                row = row_of(item.low) + 1
                glyph = "▲" if marker.kind == "fill" else "△"
                kind = "candle-chart--entry"
            else:
                row = row_of(item.high) - 1
                glyph = "▼" if marker.kind == "fill" else "▽"
                kind = "candle-chart--exit"
            if 0 <= row < rows and (chars[row][col] in (" ", "·") or marker.kind == "fill"):
                chars[row][col] = glyph
                styles[row][col] = kind

    @staticmethod
    def _price_ticks(low: float, high: float, rows: int, row_of: Callable[[float], int]) -> dict[int, str]:
        step = nice_step(high - low, max(1, rows // 3))
        ticks: dict[int, str] = {}
        value = math.ceil(low / step) * step
        while value <= high:
            row = row_of(value)
            if row not in ticks and row - 1 not in ticks and row + 1 not in ticks:
                ticks[row] = tick_label(value)
            value += step
        return ticks

    def _time_axis(self, bars: Sequence[Bar], offset: int, per_bar: int, plot_cols: int) -> str:
        """Times under every k-th bar, counted from the newest, so labels never collide."""
        cells = [" "] * (plot_cols + AXIS)
        pattern = "%m-%d %H:%M" if self.step_ms < 86_400_000 else "%Y-%m-%d"
        size = 11 if self.step_ms < 86_400_000 else 10
        every = max(1, math.ceil((size + 3) / per_bar))
        for i in range(len(bars) - 1, -1, -every):
            col = offset + i * per_bar
            start = col - size + 1
            if start < 0:
                break
            label = from_ms(bars[i].ts).strftime(pattern)
            cells[start : col + 1] = list(label[:size])
        return "".join(cells)


def tick_label(value: float) -> str:
    """A price tick as ``fmt.price`` writes it, or in fewer cells (fewer decimals, 12.3M) where that
    does not fit the axis: never its first digits alone, which read as another price."""
    shown = fmt.price(value)
    if len(shown) <= AXIS - 2:
        return shown
    digits = len(shown.partition(".")[2])
    return fmt.fit(value, AXIS - 2, digits)
