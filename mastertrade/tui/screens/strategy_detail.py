"""A strategy's detail (``enter`` on the Strategies screen): its rules in words, its metrics, its
backtest and paper equity curves and its stage history. ``a``/``p``/``r`` act on it like on the list;
``escape`` goes back.

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
from textual.widgets import Static

from mastertrade import errors
from mastertrade.engine.api.schemas_strategies import StrategyDetail
from mastertrade.tui import format as fmt
from mastertrade.tui.backend import backend_of
from mastertrade.tui.messages import StrategyAction, StrategyChangeRequested
from mastertrade.tui.screens.base import DashboardScreen
from mastertrade.tui.state import Topic
from mastertrade.tui.widgets.line_chart import LineChart
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

    def on_mount(self) -> None:
        self.load()

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
            note="" if detail.backtest_equity else "none sent",
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
        return text

    def action_change(self, action: StrategyAction) -> None:
        detail = self.detail()
        if detail is None:
            self.notify("the strategy has not loaded", severity="warning")
            return
        self.post_message(StrategyChangeRequested(detail, action))


def _opt(value: float | int | None, pattern: str) -> str:
    return fmt.DASH if value is None else pattern.format(value)
