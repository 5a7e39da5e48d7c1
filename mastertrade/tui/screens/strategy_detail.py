"""A strategy's detail (``enter`` on the Strategies screen): its rules in words, its metrics, its
backtest and paper equity curves, its stage history, and its paper book (every traded strategy, paper or
active, trades one of its own, ``strategy:<id>``): the book's open positions and newest orders, fetched
again whenever the account's figures are. ``a``/``p``/``r`` act on it like on the list; ``escape`` goes
back.

The daemon sends the rules in words with the genome; when it sends only the genome, the words are
rendered here by ``signals.describe`` in a thread (that import pulls pandas, which the dashboard
otherwise never loads).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from mastertrade import errors
from mastertrade.engine.api.schemas_strategies import StrategyDetail
from mastertrade.engine.api.schemas_trading import OrderInfo, PositionInfo
from mastertrade.tui import format as fmt
from mastertrade.tui.backend import backend_of
from mastertrade.tui.messages import StrategyAction, StrategyChangeRequested
from mastertrade.tui.no_trades import curve_note, no_trades_reason
from mastertrade.tui.screens.base import DashboardScreen
from mastertrade.tui.state import Topic
from mastertrade.tui.widgets.book_rows import ORDER_COLUMNS, POSITION_COLUMNS, order_row, position_row
from mastertrade.tui.widgets.line_chart import LineChart
from mastertrade.tui.widgets.tables import sync_rows
from mastertrade.tui.widgets.theme import tone


def describe_genome(genome: dict[str, Any]) -> str:
    from mastertrade.engine.signals.describe import describe
    from mastertrade.engine.signals.genome import parse_genome

    return describe(parse_genome(genome), multiline=True)


class StrategyDetailScreen(DashboardScreen):
    MODE = "strategies"
    TITLE = "Strategy"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("a", "change('activate')", "Activate"),
        Binding("p", "change('pause')", "Pause"),
        Binding("r", "change('retire')", "Retire"),
    ]

    def __init__(self, strategy_id: str) -> None:
        super().__init__()
        self.strategy_id = strategy_id
        self.words: str | None = None
        self.book_positions: list[PositionInfo] | None = None
        self.book_orders: list[OrderInfo] | None = None
        self.book_note = "loading its paper book…"
        """Why the book shows nothing, or what went wrong fetching it ("" once it is shown)."""
        self._positions: dict[str, tuple[str, ...]] = {}
        self._orders: dict[str, tuple[str, ...]] = {}

    @property
    def book(self) -> str:
        return f"strategy:{self.strategy_id}"

    def compose_body(self) -> ComposeResult:
        yield Static(id="detail-head")
        with Horizontal(id="detail-top"):
            with VerticalScroll(id="rules-panel", classes="panel") as panel:
                panel.border_title = "Rules"
                yield Static(id="detail-rules")
            with Vertical(id="metrics-panel", classes="panel") as panel:
                panel.border_title = "Metrics"
                yield Static(id="detail-metrics")
        with Horizontal(id="detail-curves"):
            with Vertical(classes="panel") as panel:
                panel.border_title = "Backtest equity"
                yield LineChart("", id="backtest-curve")
            with Vertical(classes="panel") as panel:
                panel.border_title = "Paper equity"
                yield LineChart("", id="paper-curve")
        with Horizontal(id="detail-book"):
            with Vertical(id="book-positions-panel", classes="panel") as panel:
                panel.border_title = "Positions · paper book"
                yield DataTable[Text](id="book-positions", cursor_type="none")
            with Vertical(id="book-orders-panel", classes="panel") as panel:
                panel.border_title = "Orders · paper book, newest first"
                yield DataTable[Text](id="book-orders", cursor_type="none")

    def on_mount(self) -> None:
        self.query_one("#book-positions", DataTable).add_columns(*POSITION_COLUMNS)
        self.query_one("#book-orders", DataTable).add_columns(*ORDER_COLUMNS[:-1])  # all by this strategy
        self.load()  # and the book: the first redraw (every topic) asks for it

    @work(exclusive=True, group="book")
    async def load_book(self) -> None:
        """The paper book's positions and newest orders; a strategy without one (never traded) says so,
        and an error keeps what was shown, with the reason."""
        backend = backend_of(self.app)
        try:
            positions = await backend.positions(book=self.book)
            orders = await backend.orders(limit=BOOK_ORDERS, book=self.book)
        except errors.NotFound:
            self.book_positions, self.book_orders = [], []
            self.book_note = "no paper book: the strategy has not traded on paper"
        except errors.MasterTradeError as exc:
            self.book_note = f"paper book not read: {exc}"
        else:
            self.book_positions, self.book_orders = positions, orders
            self.book_note = ""
        self.draw_book()

    def draw_book(self) -> None:
        positions, orders = self.book_positions, self.book_orders
        if positions is not None and orders is not None:
            sync_rows(
                self.query_one("#book-positions", DataTable),
                [position_row(self.app, p) for p in positions],
                self._positions,
            )
            sync_rows(
                self.query_one("#book-orders", DataTable),
                [order_row(self.app, o, by=False) for o in orders],
                self._orders,
            )
        positions_panel = self.query_one("#book-positions-panel")
        positions_panel.border_subtitle = self.book_note or ("" if positions else "no open positions")
        self.query_one("#book-orders-panel").border_subtitle = (
            "" if self.book_note or orders else "no orders yet"
        )

    @work(exclusive=True, group="detail")
    async def load(self) -> None:
        try:
            detail = await backend_of(self.app).strategy(self.strategy_id)
        except errors.MasterTradeError as exc:
            self.state.strategy_detail.fail(str(exc))
            self.redraw({"strategies"})
            return
        self.state.set_strategy_detail(detail)
        if detail.description:
            self.words = detail.description
        elif detail.genome is not None:
            self.describe_in_thread(detail.genome)
        self.redraw({"strategies"})

    @work(thread=True, exclusive=True, group="describe")
    def describe_in_thread(self, genome: dict[str, Any]) -> None:
        try:
            words = describe_genome(genome)
        except errors.MasterTradeError as exc:
            words = f"(the genome does not parse: {exc})"
        self.app.call_from_thread(self._described, words)

    def _described(self, words: str) -> None:
        self.words = words
        self.redraw({"strategies"})

    def detail(self) -> StrategyDetail | None:
        found = self.state.strategy_detail.value
        return found if found is not None and found.id == self.strategy_id else None

    def redraw(self, topics: set[Topic]) -> None:
        if "account" in topics and self.is_mounted:
            self.load_book()  # the account's figures were fetched again (or this is the first draw)
        if not topics & {"strategies", "connection"}:
            return
        if "strategies" in topics and self.is_mounted and self.state.strategy_detail.value is not None:
            row = next((r for r in self.state.strategies.value or [] if r.id == self.strategy_id), None)
            detail = self.detail()
            if row is not None and detail is not None and row.state != detail.state:
                self.load()  # its stage moved: fetch the new history
        app = self.app
        detail = self.detail()
        head = Text(no_wrap=True, overflow="ellipsis")
        if detail is None:
            message = self.state.strategy_detail.error or f"loading {self.strategy_id}…"
            head.append(
                message, tone(app, "text-warning" if self.state.strategy_detail.error else "text-muted")
            )
            self.query_one("#detail-head", Static).update(head)
            return
        head.append(f"{detail.name} ", tone(app, "text", bold=True))
        head.append(f"{detail.id}  ", tone(app, "text-muted"))
        head.append(detail.state, tone(app, "text-accent", bold=True))
        head.append(f"  {detail.symbol or '?'} {detail.timeframe or ''}")
        self.query_one("#detail-head", Static).update(head)
        rules = Text(
            self.words or ("rendering the rules…" if detail.genome is not None else "no genome sent")
        )
        if detail.history:
            rules.append("\n\nHistory\n", tone(app, "text", bold=True))
            for change in detail.history[-8:]:
                rules.append(f"{fmt.stamp(change.at)} ", tone(app, "text-muted"))
                rules.append(f"{change.from_ or '·'} → {change.to}")
                rules.append(f"  {change.reason}\n" if change.reason else "\n", tone(app, "text-muted"))
        self.query_one("#detail-rules", Static).update(rules)
        self.query_one("#detail-metrics", Static).update(self.metrics_text(detail))
        stale = not self.state.connected
        self.query_one("#backtest-curve", LineChart).show(
            [p.equity for p in detail.backtest_equity],
            [p.ts for p in detail.backtest_equity],
            note=curve_note(detail),
            stale=stale,
        )
        self.query_one("#paper-curve", LineChart).show(
            [p.equity for p in detail.paper_equity],
            [p.ts for p in detail.paper_equity],
            note="" if detail.paper_equity else "not paper-traded yet",
            stale=stale,
        )

    def metrics_text(self, detail: StrategyDetail) -> Text:
        app = self.app
        text = Text()
        figures: list[tuple[str, str]] = [
            ("sharpe (OOS)", _opt(detail.sharpe, "{:.2f}")),
            ("deflated sharpe", _opt(detail.deflated_sharpe, "{:.2f}")),
            ("return (OOS)", _opt(detail.return_pct, "{:+.2f}%")),
            ("max drawdown", _opt(detail.max_drawdown_pct, "{:.2f}%")),
            ("trades", _opt(detail.trades, "{}")),
            ("paper return", _opt(detail.paper.return_pct if detail.paper else None, "{:+.2f}%")),
            ("paper trades", _opt(detail.paper.trades if detail.paper else None, "{}")),
        ]
        bench = (detail.holdout_buy_and_hold or {}).get("sharpe")
        if detail.holdout_buy_and_hold is not None:  # recorded for strategies generated since it existed
            figures.insert(3, ("buy&hold sharpe", _opt(bench, "{:.2f}")))
        shown = {label for label, _ in figures}
        for key, value in sorted(detail.metrics.items()):
            if key not in shown and isinstance(value, int | float | str):
                figures.append(
                    (key.replace("_", " "), f"{value:.4g}" if isinstance(value, float) else str(value))
                )
        width = max(len(label) for label, _ in figures)
        for label, value in figures:
            text.append(label.ljust(width + 1), tone(app, "text-muted"))
            text.append(value + "\n")
        if bench is not None and (detail.sharpe is None or detail.sharpe < bench):
            text.append("does worse than buy-and-hold over its hold-out\n", tone(app, "text-warning"))
        reason = no_trades_reason(detail)
        if reason is not None:
            text.append(f"{reason}\n", tone(app, "text-warning"))
        return text

    def action_change(self, action: StrategyAction) -> None:
        detail = self.detail()
        if detail is None:
            self.notify("the strategy has not loaded", severity="warning")
            return
        self.post_message(StrategyChangeRequested(detail, action))


BOOK_ORDERS = 20
"""Orders of the paper book shown (the newest)."""


def _opt(value: float | int | None, pattern: str) -> str:
    return fmt.DASH if value is None else pattern.format(value)
