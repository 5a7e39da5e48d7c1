"""Strategies (key 3): the promotion pipeline with each strategy's metrics, and generation runs.

The top line counts the strategies in each stage; the table lists them (``f`` filters by stage).
``enter`` opens a strategy's detail; ``a`` activates, ``p`` pauses, ``r`` retires the selected one
(activating and retiring ask first); ``g`` starts a generation run, whose progress shows live.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from mastertrade import errors
from mastertrade.engine.api.schemas_strategies import StrategyDetail, StrategySummary
from mastertrade.engine.generator.states import State
from mastertrade.tui import format as fmt
from mastertrade.tui.backend import GENERATION_JOB, backend_of
from mastertrade.tui.messages import GenerationRequested, StrategyAction, StrategyChangeRequested
from mastertrade.tui.no_trades import curve_note, no_trades_reason
from mastertrade.tui.screens.base import DashboardScreen
from mastertrade.tui.state import LiveState, Topic
from mastertrade.tui.widgets.glyphs import bar
from mastertrade.tui.widgets.line_chart import LineChart
from mastertrade.tui.widgets.tables import Row, selected_key, sync_rows
from mastertrade.tui.widgets.theme import signed_tone, tone

COLUMNS = ("Name", "Stage", "Market", "Sharpe", "Return", "Paper", "Max DD", "DSR", "Trades")
STAGE_TONES = {
    "active": "text-success",
    "paper": "text-accent",
    "paused": "text-warning",
    "retired": "text-muted",
    "failed": "text-muted",
    "passed": "text-primary",
}
PREVIEW_DELAY_S = 0.2
PREVIEW_MIN_WIDTH = 40
"""The preview shows beside the table only when the table keeps all its columns in sight and this many
columns are left for the preview; otherwise the table has the width (``enter`` opens the detail)."""
NAME_WIDTH = 24
"""Cells a name takes in the table at most: a longer one ends in an ellipsis (the preview and the detail
show it whole), so a long name never pushes the other columns out of sight."""
STAGES = tuple(state.value for state in State)
"""The pipeline's stages, in order (the strategy store's states)."""


def pipeline_line(state: LiveState, app: App[Any]) -> Text:
    rows = state.strategies.value
    text = Text(no_wrap=True, overflow="ellipsis")
    if rows is None:
        text.append(state.strategies.error or "loading strategies…", tone(app, "text-warning"))
        return text
    counts = {stage: 0 for stage in STAGES}
    for row in rows:
        counts[row.state] = counts.get(row.state, 0) + 1
    flow = ("generated", "backtested", "passed", "paper", "active")
    for index, stage in enumerate(flow):
        if index:
            text.append(" › ", tone(app, "text-muted"))
        text.append(f"{stage} ", tone(app, "text-muted"))
        text.append(str(counts.get(stage, 0)), tone(app, STAGE_TONES.get(stage, "text"), bold=True))
    for stage in (s for s in counts if s not in flow):
        text.append(f"  {stage} ", tone(app, "text-muted"))
        text.append(str(counts[stage]), tone(app, STAGE_TONES.get(stage, "text")))
    if state.strategies.error:
        text.append(f"  ({state.strategies.error})", tone(app, "text-warning"))
    return text


def generation_line(state: LiveState, app: App[Any], width: int) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    run = state.job_for(GENERATION_JOB)
    text.append("generation ", tone(app, "text-muted"))
    if run is None:
        # the daemon's status names each job's last run: with it known, no run is none ever stored
        known = "none run yet" if state.status.value is not None else "not known until the daemon answers"
        text.append(f"{known} · g starts one", tone(app, "text-muted"))
        return text
    if run.outcome is None:
        fraction = run.fraction
        figures = f"{run.done:.0f}/{run.total:.0f} " if run.total else f"{run.done:.0f} "
        text.append(f"run {run.run_id} ", tone(app, "text", bold=True))
        text.append(bar(fraction, max(6, min(30, width // 4))), tone(app, "text-accent"))
        text.append(f" {figures}{fmt.pct(fraction, 0) if fraction is not None else ''} {run.message}")
        return text
    color = "text-success" if run.outcome == "ok" else "text-error"
    text.append(f"run {run.run_id} {run.outcome}", tone(app, color, bold=True))
    hint = " · g starts another"
    said = run.said or run.outcome
    # what the run did, as the daemon words it ("ok: 0 of 3 series searched (all skipped: ...)"): the
    # counts lead, so what the line keeps of it is what a glance needs, and the hint stays in view
    details = said.removeprefix(run.outcome) if said.startswith(f"{run.outcome}: ") else ""
    if details:
        text.append(fmt.clip(details, max(width - len(text.plain) - len(hint), 12)), tone(app, "text"))
    if run.error:
        text.append(f": {run.error}", tone(app, "text-error"))
    text.append(hint, tone(app, "text-muted"))
    return text


class StrategiesScreen(DashboardScreen):
    MODE = "strategies"
    TITLE = "Strategies"
    BINDINGS = [
        Binding("enter", "open", "Detail", show=False),
        Binding("a", "change('activate')", "Activate"),
        Binding("p", "change('pause')", "Pause"),
        Binding("r", "change('retire')", "Retire"),
        Binding("g", "generate", "Generate"),
        Binding("f", "stage_filter", "Stage filter"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.stage: str | None = None
        self._rows: dict[str, tuple[str, ...]] = {}
        self._previewed: StrategySummary | None = None
        """The list's row the preview was drawn for: when a refresh changes it (paused, retired, its
        paper return moved), the preview is drawn again instead of showing the old stage."""
        self._preview_detail: StrategyDetail | None = None
        """The detail the preview shows: kept, marked not refreshed, when asking again fails."""

    def compose_body(self) -> ComposeResult:
        yield Static(id="pipeline")
        yield Static(id="generation")
        with Horizontal(id="strategies-main"):
            with Vertical(id="strategies-panel", classes="panel") as panel:
                panel.border_title = "Strategies"
                yield DataTable[Text](id="strategies", cursor_type="row")
            with Vertical(id="strategy-preview", classes="panel") as panel:
                panel.border_title = "Selected"
                yield Static(id="preview-text")
                yield LineChart("backtest", id="preview-curve")

    def on_mount(self) -> None:
        self.query_one("#strategies", DataTable).add_columns(*COLUMNS)

    def redraw(self, topics: set[Topic]) -> None:
        state = self.state
        if topics & {"strategies", "connection"}:
            self.query_one("#pipeline", Static).update(pipeline_line(state, self.app))
            rows = [
                row for row in state.strategies.value or [] if self.stage is None or row.state == self.stage
            ]
            sync_rows(self.query_one("#strategies", DataTable), [self.row(item) for item in rows], self._rows)
            self.call_after_refresh(self.fit_preview)
            panel = self.query_one("#strategies-panel")
            panel.border_title = f"Strategies: {self.stage}" if self.stage else "Strategies"
            if rows:
                panel.border_subtitle = ""
            elif state.strategies.value is None:  # never listed: the pipeline line says why
                panel.border_subtitle = "not listed yet"
            else:
                panel.border_subtitle = "none in this stage" if self.stage else "none stored"
            current = self.selected()
            previewed = self._previewed
            if (
                self.has_class("-preview")
                and current is not None
                and previewed is not None
                and current.id == previewed.id
                and current != previewed
            ) or (self.has_class("-preview") and current is None):
                self.preview()
        if topics & {"jobs", "connection"}:
            line = self.query_one("#generation", Static)
            width = self.size.width - line.styles.gutter.width  # its padding: the text's room, to the cell
            line.update(generation_line(state, self.app, width))

    def row(self, item: StrategySummary) -> Row:
        app = self.app
        return (
            item.id,
            [
                Text(fmt.clip(item.name, NAME_WIDTH), tone(app, "text", bold=True)),
                Text(item.state, tone(app, STAGE_TONES.get(item.state, "text"), bold=item.state == "active")),
                Text(f"{item.symbol or '?'} {item.timeframe or ''}".strip()),
                Text(_num(item.sharpe), justify="right"),
                Text(_pct(item.return_pct), signed_tone(app, item.return_pct), justify="right"),
                Text(_pct(paper_return(item)), signed_tone(app, paper_return(item)), justify="right"),
                Text(
                    fmt.DASH if item.max_drawdown_pct is None else f"{item.max_drawdown_pct:.1f}%",
                    justify="right",
                ),
                Text(_num(item.deflated_sharpe), justify="right"),
                Text("" if item.trades is None else str(item.trades), justify="right"),
            ],
        )

    def selected(self) -> StrategySummary | None:
        key = selected_key(self.query_one("#strategies", DataTable))
        return next((row for row in self.state.strategies.value or [] if row.id == key), None)

    @on(DataTable.RowSelected, "#strategies")
    def _row_selected(self) -> None:
        self.action_open()

    @on(DataTable.RowHighlighted, "#strategies")
    def _row_highlighted(self) -> None:
        if self.has_class("-preview"):
            self.preview()

    def on_resize(self) -> None:
        super().on_resize()
        self.call_after_refresh(self.fit_preview)

    def fit_preview(self) -> None:
        """Show the preview (``-preview``) when the table, at the width of its columns, leaves it
        ``PREVIEW_MIN_WIDTH`` columns; the table then takes exactly that width."""
        table = self.query_one("#strategies", DataTable)
        panel = self.query_one("#strategies-panel")
        needed = table.virtual_size.width + panel.styles.gutter.width + table.styles.scrollbar_size_vertical
        show = self.has_class("-wide") and self.size.width - needed >= PREVIEW_MIN_WIDTH
        panel.styles.width = needed if show else None
        if show != self.has_class("-preview"):
            self.set_class(show, "-preview")
            if show:
                self.preview()

    @work(exclusive=True, group="preview")
    async def preview(self) -> None:
        """Where there is room, the highlighted strategy's rules, metrics and backtest curve beside the
        list."""
        await asyncio.sleep(PREVIEW_DELAY_S)  # the cursor may be passing through
        item = self.selected()
        text = self.query_one("#preview-text", Static)
        curve = self.query_one("#preview-curve", LineChart)
        self._previewed = item
        curve.display = item is not None
        if item is None:
            text.update(nothing_selected_text(self.state.strategies.value, self.stage, self.app))
            return
        try:
            detail = await backend_of(self.app).strategy(item.id)
        except errors.MasterTradeError as exc:
            shown = self._preview_detail
            if shown is not None and shown.id == item.id:
                # The daemon went away (or failed) as the row changed: what was shown stays, said so.
                kept = preview_text(shown, self.app)
                kept.append(f"\nnot refreshed: {exc}", tone(self.app, "text-warning"))
                text.update(kept)
                return
            self._preview_detail = None
            text.update(Text(str(exc), tone(self.app, "text-warning")))
            curve.show([], note="")
            return
        self._preview_detail = detail
        text.update(preview_text(detail, self.app))
        points = detail.backtest_equity
        curve.show([p.equity for p in points], [p.ts for p in points], note=curve_note(detail))

    def action_open(self) -> None:
        item = self.selected()
        if item is not None:
            from mastertrade.tui.screens.strategy_detail import StrategyDetailScreen

            self.app.push_screen(StrategyDetailScreen(item.id))

    def action_change(self, action: StrategyAction) -> None:
        item = self.selected()
        if item is None:
            self.notify("no strategy selected", severity="warning")
            return
        self.post_message(StrategyChangeRequested(item, action))

    def action_generate(self) -> None:
        self.post_message(GenerationRequested())

    def action_stage_filter(self) -> None:
        present = [
            stage for stage in STAGES if any(r.state == stage for r in self.state.strategies.value or [])
        ]
        choices: list[str | None] = [None, *present]
        index = choices.index(self.stage) if self.stage in choices else 0
        self.stage = choices[(index + 1) % len(choices)]
        self.redraw({"strategies"})


def nothing_selected_text(listed: list[StrategySummary] | None, stage: str | None, app: App[Any]) -> Text:
    """The preview with no row to show: why, and how strategies get there. With none stored it read
    "backtest / no data yet", as if a strategy without a backtest were selected."""
    muted = tone(app, "text-muted")
    if listed is None:  # never listed: the pipeline line says why
        return Text("no strategies listed yet", muted)
    if stage is not None and listed:
        return Text(f"none in stage {stage}: f shows the next stage", muted)
    text = Text("no strategies stored\n\n", tone(app, "text", bold=True))
    text.append("mt generate", tone(app, "text", bold=True))
    text.append(" (or g here) searches for some and backtests them;\n", muted)
    text.append("mt strategy add", tone(app, "text", bold=True))
    text.append(" stores one of your own (a built-in, a genome file, a plugin).", muted)
    return text


def preview_text(detail: StrategyDetail, app: App[Any]) -> Text:
    text = Text()
    text.append(f"{detail.name} ", tone(app, "text", bold=True))
    text.append(f"{detail.id} · {detail.state}\n", tone(app, "text-muted"))
    text.append(
        (detail.description or "(the daemon sent no rules in words: enter opens the detail)") + "\n\n"
    )
    figures = [
        ("sharpe", _num(detail.sharpe)),
        ("DSR", _num(detail.deflated_sharpe)),
        ("return", _pct(detail.return_pct)),
        ("max DD", fmt.DASH if detail.max_drawdown_pct is None else f"{detail.max_drawdown_pct:.1f}%"),
        ("trades", fmt.DASH if detail.trades is None else str(detail.trades)),
        ("paper", _pct(paper_return(detail))),
    ]
    for index, (label, value) in enumerate(figures):
        text.append(("  " if index else "") + f"{label} ", tone(app, "text-muted"))
        text.append(value)
    reason = no_trades_reason(detail)
    if reason is not None:
        text.append(f"\n{reason}", tone(app, "text-warning"))
    return text


def paper_return(item: StrategySummary) -> float | None:
    """Its paper book's return, once it has one."""
    return item.paper.return_pct if item.paper is not None else None


def _num(value: float | None) -> str:
    return fmt.DASH if value is None else f"{value:.2f}"


def _pct(value: float | None) -> str:
    return fmt.DASH if value is None else f"{value:+.1f}%"


def confirm_text(item: StrategySummary, action: StrategyAction, live: bool) -> str | None:
    """What to ask before ``action`` on ``item`` (None: no question needed)."""
    if action == "pause":
        return None
    if action == "activate":
        money = "REAL money on the live account" if live else "the paper account"
        market = f"{item.symbol or '?'} {item.timeframe or ''}".strip()
        return f"Activate {item.name} ({item.id}, {market})?\nIt will trade {money}."
    return f"Retire {item.name} ({item.id})? It stops trading for good."
