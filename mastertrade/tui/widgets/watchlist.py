"""``Watchlist``: the watched symbols with their live price, day change, day volume and a sparkline.

It is the hottest widget of the dashboard (every tick of every symbol lands here), so it draws itself
line by line (Textual's line API) and keeps each row as a ready ``Strip``: a redraw rebuilds only the
rows whose text changed and repaints only their lines. (A DataTable re-renders every cell through
rich on any change, which cost 30-40 ms a frame at 20 symbols.)

A price older than ``STALE_AFTER_S`` (or any price while the daemon is away) shows in the warning colour
with its age instead of "live": it is never shown as live. Up/down move the cursor and post
``Watchlist.Highlighted``; a click picks a row.

Columns are as wide as their widest text (``column_widths``): a long symbol (BTC-EDGE/USDT) or a price
of a million or more is never cut short. When the rows do not fit, the sparkline gives up its columns
first, and only then a symbol is shortened, with an ellipsis that says so.
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
# (title, least width, right-aligned)
COLUMNS: tuple[tuple[str, int, bool], ...] = (
    ("Symbol", 10, False),
    ("Price", 11, True),
    ("24h", 8, True),
    ("Vol 24h", 8, True),
    ("Trend", SPARK_WIDTH, False),
    ("", 9, False),
)
SYMBOL, TREND = 0, 4
Cells = tuple[str, ...]


def column_widths(rows: list[Cells], room: int) -> tuple[int, ...]:
    """The columns' widths for ``rows`` in ``room`` cells (a space after each column): each as wide as
    its widest text; what does not fit comes off the sparkline, then off the symbol (never below its
    least width, so on a very narrow terminal the row runs off the edge rather than the figures)."""
    widths = [
        max([least, *(len(row[index]) for row in rows)]) if index != TREND else least
        for index, (_title, least, _right) in enumerate(COLUMNS)
    ]
    excess = sum(widths) + len(widths) - room
    if excess > 0:
        given = min(excess, widths[TREND])
        widths[TREND] -= given
        excess -= given + (1 if widths[TREND] == 0 else 0)  # a column gone takes its space with it
    if excess > 0:
        widths[SYMBOL] = max(COLUMNS[SYMBOL][1], widths[SYMBOL] - excess)
    return tuple(widths)


def fit(text: str, width: int, *, right: bool = False, tail: bool = False) -> str:
    """``text`` in ``width`` cells: padded, or shortened with an ellipsis (``tail``: keep its end, for
    the sparkline, whose newest closes are on the right)."""
    if len(text) <= width:
        return text.rjust(width) if right else text.ljust(width)
    if tail:
        return text[len(text) - width :]
    return text[: width - 1] + "…" if width > 0 else ""


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
        self._widths: tuple[int, ...] = ()
        self._laid_out_for: int | None = None  # the width the columns were fitted to

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
        if self._fit_columns(self.size.width) and not added:
            self.refresh()  # every row moves with the columns
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

    def _fit_columns(self, width: int) -> bool:
        """Fit the columns to the rows and ``width``; whether they changed (then every row is redrawn)."""
        self._laid_out_for = width
        widths = column_widths(self.row_texts(), width)
        if widths == self._widths:
            return False
        self._widths = widths
        self._strips.clear()
        return True

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if self._laid_out_for != width:
            self._fit_columns(width)
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
        text = " ".join(
            fit(title, size, right=right)
            for (title, _least, right), size in zip(COLUMNS, self._widths, strict=True)
            if size
        )
        return Strip([Segment(text[:width].ljust(width), style)])

    def _row(self, symbol: str, current: bool, width: int) -> Strip:
        base = self.rich_style
        if current:
            base = base + self.get_component_rich_style("watchlist--cursor")
        segments: list[Segment] = []
        for index, ((_title, _least, right), size, text, style) in enumerate(
            zip(COLUMNS, self._widths, self.cells[symbol], self._styles[symbol], strict=True)
        ):
            if size == 0:
                continue
            segments.append(Segment(fit(text, size, right=right, tail=index == TREND), base + style))
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
