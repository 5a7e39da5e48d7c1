"""``Watchlist``: the watched symbols with their live price, day change, day volume and a sparkline.

It is the hottest widget of the dashboard (every tick of every symbol lands here), so it draws itself
line by line (Textual's line API) and keeps each row as a ready ``Strip``: a redraw rebuilds only the
rows whose text changed and repaints only their lines. (A DataTable re-renders every cell through
rich on any change, which cost 30-40 ms a frame at 20 symbols.)

A price older than ``STALE_AFTER_S`` (or any price while the daemon is away) shows in the warning colour
with its age instead of "live": it is never shown as live. Up/down move the cursor and post
``Watchlist.Highlighted``; a click picks a row.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from mastertrade.tui import format as fmt
from mastertrade.tui.state import LiveState
from mastertrade.tui.widgets.glyphs import sparkline
from mastertrade.tui.widgets.theme import signed_tone, tone

SPARK_WIDTH = 14
# (title, width, right-aligned)
COLUMNS: tuple[tuple[str, int, bool], ...] = (
    ("Symbol", 10, False),
    ("Price", 11, True),
    ("24h", 8, True),
    ("Vol 24h", 8, True),
    ("Trend", SPARK_WIDTH, False),
    ("", 9, False),
)
Cells = tuple[str, ...]


class Watchlist(Widget, can_focus=True):
    DEFAULT_CSS = """
    Watchlist { height: auto; padding: 0 1; }
    Watchlist > .watchlist--header { color: $text-muted; text-style: bold; }
    Watchlist > .watchlist--cursor { background: $primary 30%; }
    Watchlist:focus > .watchlist--cursor { background: $primary 60%; }
    """
    COMPONENT_CLASSES = {"watchlist--header", "watchlist--cursor"}
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("home", "move(-1000)", "First", show=False),
        Binding("end", "move(1000)", "Last", show=False),
    ]

    cursor = reactive(0)

    class Highlighted(Message):
        """The cursor moved to another symbol."""

        def __init__(self, watchlist: Watchlist, symbol: str) -> None:
            super().__init__()
            self.watchlist = watchlist
            self.symbol = symbol

        @property
        def control(self) -> Watchlist:
            return self.watchlist

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.symbols: list[str] = []
        self.cells: dict[str, Cells] = {}
        self._styles: dict[str, tuple[Style, ...]] = {}
        self._strips: dict[tuple[str, bool], Strip] = {}
        self._top = 0  # first row shown when the rows do not all fit

    # --- data ------------------------------------------------------------------------------------------

    @property
    def selected(self) -> str | None:
        return self.symbols[self.cursor] if 0 <= self.cursor < len(self.symbols) else None

    def sync(self, state: LiveState) -> None:
        """Bring the rows up to date; only rows whose text or colours changed are repainted."""
        app = self.app
        added = False
        for symbol, ticker in state.tickers.items():
            stale = state.is_stale(ticker)
            change = ticker.change()
            closes = ticker.closes(SPARK_WIDTH)
            age = "" if ticker.at is None else fmt.age(state.clock() - ticker.at)
            cells = (
                symbol,
                fmt.price(ticker.price),
                fmt.signed_pct(change),
                fmt.compact(ticker.volume()),
                sparkline(closes, SPARK_WIDTH),
                ("stale " + age) if stale else "live",
            )
            if self.cells.get(symbol) == cells:
                continue
            self.cells[symbol] = cells
            self._styles[symbol] = (
                tone(app, "text", bold=True),
                tone(app, "text-warning") if stale else tone(app, "text", bold=True),
                signed_tone(app, change),
                tone(app, "text-muted"),
                signed_tone(app, (closes[-1] - closes[0]) if len(closes) > 1 else None),
                tone(app, "text-warning" if stale else "text-success"),
            )
            self._strips.pop((symbol, False), None)
            self._strips.pop((symbol, True), None)
            if symbol not in self.symbols:
                self.symbols.append(symbol)
                added = True
            else:
                self._refresh_row(self.symbols.index(symbol))
        if added:
            self.refresh(layout=True)
            if len(self.symbols) == 1 or self.cursor >= len(self.symbols):
                self.cursor = 0
                self.post_message(self.Highlighted(self, self.symbols[0]))

    def row_texts(self) -> list[Cells]:
        """What each row shows (for tests and the help of screen readers of the code)."""
        return [self.cells[symbol] for symbol in self.symbols]

    # --- drawing ---------------------------------------------------------------------------------------

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.symbols) + 1

    def _visible_rows(self) -> int:
        return max(1, self.size.height - 1)

    def _refresh_row(self, index: int) -> None:
        line = index - self._top + 1
        if 1 <= line <= self._visible_rows():
            self.refresh(Region(0, line, self.size.width, 1))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            return self._header(width)
        index = self._top + y - 1
        if index >= len(self.symbols):
            return Strip.blank(width, self.rich_style)
        symbol = self.symbols[index]
        current = index == self.cursor
        key = (symbol, current)
        strip = self._strips.get(key)
        if strip is None or strip.cell_length != width:
            strip = self._row(symbol, current, width)
            self._strips[key] = strip
        return strip

    def _header(self, width: int) -> Strip:
        style = self.rich_style + self.get_component_rich_style("watchlist--header")
        text = " ".join(title.rjust(size) if right else title.ljust(size) for title, size, right in COLUMNS)
        return Strip([Segment(text[:width].ljust(width), style)])

    def _row(self, symbol: str, current: bool, width: int) -> Strip:
        base = self.rich_style
        if current:
            base = base + self.get_component_rich_style("watchlist--cursor")
        segments: list[Segment] = []
        for (_title, size, right), text, style in zip(
            COLUMNS, self.cells[symbol], self._styles[symbol], strict=True
        ):
            cell = text[:size].rjust(size) if right else text[:size].ljust(size)
            segments.append(Segment(cell, base + style))
            segments.append(Segment(" ", base))
        return Strip(segments).adjust_cell_length(width, base)

    # --- the cursor ------------------------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        rows = self._visible_rows()
        if new < self._top:
            self._top = new
            self.refresh()
        elif new >= self._top + rows:
            self._top = new - rows + 1
            self.refresh()
        else:
            self._refresh_row(old)
            self._refresh_row(new)

    def action_move(self, step: int) -> None:
        if not self.symbols:
            return
        target = min(len(self.symbols) - 1, max(0, self.cursor + step))
        if target != self.cursor:
            self.cursor = target
            self.post_message(self.Highlighted(self, self.symbols[target]))

    def on_click(self, event: events.Click) -> None:
        index = self._top + event.y - 1
        if event.y >= 1 and 0 <= index < len(self.symbols):
            self.action_move(index - self.cursor)

    def on_focus(self) -> None:
        self._strips.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._strips.clear()
        self.refresh()
