"""Overview (key 1): the account at a glance. Equity curve and P&L, risk gauges and breakers, goals,
the latest alerts; the badges in the status bar say whose money it is. Above the panels, only while
there are any, a warning counts the positions without exits at the exchange and the positions and
orders in a delisted market (marked on their rows by Orders & positions, key 4)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid, Vertical

from mastertrade.tui.screens.base import DashboardScreen
from mastertrade.tui.state import Topic
from mastertrade.tui.widgets.line_chart import LineChart, axis_ends
from mastertrade.tui.widgets.overview import (
    BookWarnings,
    GoalsList,
    LatestAlerts,
    PnLSummary,
    RiskGauges,
)
from mastertrade.utc import from_ms


class OverviewScreen(DashboardScreen):
    MODE = "overview"
    TITLE = "Overview"

    def compose_body(self) -> ComposeResult:
        yield BookWarnings()
        with Grid(id="overview-grid"):
            with Vertical(id="equity-panel", classes="panel") as panel:
                panel.border_title = "Equity"
                yield PnLSummary()
                yield LineChart("", id="equity-chart")
            with Vertical(id="risk-panel", classes="panel") as panel:
                panel.border_title = "Risk"
                yield RiskGauges()
            with Vertical(id="goals-panel", classes="panel") as panel:
                panel.border_title = "Goals"
                yield GoalsList()
            with Vertical(id="alerts-panel", classes="panel") as panel:
                panel.border_title = "Latest alerts"
                yield LatestAlerts()

    def redraw(self, topics: set[Topic]) -> None:
        state = self.state
        if topics & {"account", "connection"}:
            self.query_one(BookWarnings).sync()
            self.query_one(PnLSummary).refresh(layout=True)
            points = list(state.equity)
            if state.equity_source == "session":
                note = "this session only"
            elif state.equity_note and not points:
                note = state.equity_note
            else:
                note = ""
            self.query_one(LineChart).show(
                [point.equity for point in points],
                [point.ts for point in points],
                title=history_title([point.ts for point in points]),
                short_title=history_title([point.ts for point in points], short=True),
                note=note,
                stale=not state.connected,
            )
        if topics & {"risk", "connection"}:
            self.query_one(RiskGauges).refresh(layout=True)
        if topics & {"goals", "connection"}:
            self.query_one(GoalsList).refresh(layout=True)
        if topics & {"alerts", "connection"}:
            self.query_one(LatestAlerts).refresh()


def history_title(times: list[int], *, short: bool = False) -> str:
    """The equity chart's headline names its figure as the history's last mark, at the time of that mark
    (market time): beside the live "Equity" above it, an unnamed figure read as a second equity. ``short``
    gives the time of day alone, for a panel too narrow for the date and the figures."""
    if not times:
        return ""
    end = from_ms(times[-1]).strftime("%H:%M") if short else axis_ends(times[0], times[-1])[1]
    return f"history to {end}:"
