"""Risk (key 5): limits and how much of each is used, VaR and CVaR, the circuit breakers, the halt
switch. ``h`` halts all entries (the kill switch), ``u`` resumes (resets the kill switch and every
breaker), ``r`` resets the selected breaker; each asks first."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from mastertrade.tui import format as fmt
from mastertrade.tui.messages import BreakerResetConfirmed, HaltRequested, ResumeRequested
from mastertrade.tui.screens.base import DashboardScreen
from mastertrade.tui.screens.confirm import ConfirmScreen
from mastertrade.tui.state import LiveState, Topic
from mastertrade.tui.widgets.gauges import Usage, gauges
from mastertrade.tui.widgets.panel import StatePanel
from mastertrade.tui.widgets.tables import Row, selected_key, sync_rows
from mastertrade.tui.widgets.theme import tone

BREAKER_COLUMNS = ("Breaker", "State", "Until", "Resets", "Since", "Reason")
VAR_COLUMNS = ("", "Historical", "Parametric")


class LimitsPanel(StatePanel):
    def draw(self, state: LiveState, width: int) -> Text:
        app = self.app
        risk = state.risk.value
        text = Text()
        if risk is None:
            text.append(state.risk.error or "no risk figures yet", tone(app, "text-muted"))
            return text
        limits = risk.limits
        if risk.halted:
            text.append("HALTED: no entries until resumed (u)\n", tone(app, "text-error", bold=True))
            text.append(f"{risk.halt_reason or 'kill switch'}\n", tone(app, "text-error"))
        elif risk.reduce_only:
            text.append(
                "REDUCE-ONLY: drawdown at its limit, exits only\n",
                tone(app, "text-warning", bold=True),
            )
        positions = state.positions.value or []
        # A position without a price yet counts at its average price, as the risk check counts it.
        largest = max(
            (p.value if p.value is not None else p.amount * (p.average_price or 0.0) for p in positions),
            default=0.0,
        )
        usages = [
            Usage("exposure", risk.exposure_pct, limits.get("max_exposure")),
            Usage(
                "largest pos.",
                largest / risk.equity if risk.equity > 0 else None,
                limits.get("max_position"),
            ),
            Usage("drawdown", risk.drawdown, limits.get("max_drawdown")),
            Usage("daily loss", risk.daily_loss, limits.get("daily_loss_limit")),
            Usage(
                "positions",
                float(risk.open_positions),
                limits.get("max_open_positions"),
                shown=f"{risk.open_positions} / {limits.get('max_open_positions', 0):.0f}",
            ),
        ]
        rows = gauges(app, usages, width, label_width=14)
        for row in rows:
            text.append_text(row)
            text.append("\n")
        text.append("min order".ljust(14), tone(app, "text-muted"))
        text.append(fmt.money(limits.get("min_notional")))
        text.append("\n" + "peak equity".ljust(14), tone(app, "text-muted"))
        text.append(fmt.money(risk.peak_equity))
        protection = risk.protection
        if protection is not None and protection.protected_positions:
            # Live: say whether a stop rests at the exchange or holds only while the daemon runs.
            at_exchange = protection.by == "exchange"
            text.append("\n" + "protection".ljust(14), tone(app, "text-muted"))
            text.append(
                f"{protection.protected_positions} positions, "
                + ("stops at the exchange" if at_exchange else "only while the daemon runs"),
                tone(app, "text-success" if at_exchange else "text-warning", bold=not at_exchange),
            )
        held = protection.held_take_profits if protection is not None else []
        if held:
            text.append("\n" + "take-profits".ljust(14), tone(app, "text-muted"))
            text.append(
                f"{len(held)} kept by the daemon: only while it runs (no OCO at this venue)",
                tone(app, "text-warning", bold=True),
            )
        return text


class RiskScreen(DashboardScreen):
    MODE = "risk"
    TITLE = "Risk"
    AUTO_FOCUS = "#breakers"
    BINDINGS = [
        Binding("h", "halt", "Halt trading"),
        Binding("u", "resume", "Resume all"),
        Binding("r", "reset_breaker", "Reset breaker"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._breakers: dict[str, tuple[str, ...]] = {}
        self._var: dict[str, tuple[str, ...]] = {}

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="risk-top"):
            with Vertical(id="limits-panel", classes="panel") as panel:
                panel.border_title = "Limits and usage"
                yield LimitsPanel()
            with Vertical(id="var-panel", classes="panel") as panel:
                panel.border_title = "Value at risk"
                yield Static(id="var-note")
                yield DataTable[Text](id="var", cursor_type="none", show_cursor=False)
        with Vertical(id="breakers-panel", classes="panel") as panel:
            panel.border_title = "Circuit breakers"
            yield DataTable[Text](id="breakers", cursor_type="row")

    def on_mount(self) -> None:
        self.query_one("#breakers", DataTable).add_columns(*BREAKER_COLUMNS)
        self.query_one("#var", DataTable).add_columns(*VAR_COLUMNS)

    def redraw(self, topics: set[Topic]) -> None:
        if not topics & {"risk", "account", "connection"}:
            return
        self.query_one(LimitsPanel).refresh(layout=True)
        risk = self.state.risk.value
        sync_rows(self.query_one("#breakers", DataTable), self.breaker_rows(), self._breakers)
        var = (risk.var if risk else None) or {}
        rows = self.var_rows(var)
        table = self.query_one("#var", DataTable)
        sync_rows(table, rows, self._var)
        table.display = bool(rows)
        self.query_one("#var-note", Static).update(self.var_note(var))

    def breaker_rows(self) -> list[Row]:
        app = self.app
        risk = self.state.risk.value
        rows: list[Row] = []
        for item in risk.breakers if risk else []:
            if item.tripped:
                state = Text("TRIPPED", tone(app, "text-error", bold=True))
            else:
                state = Text("clear", tone(app, "text-success"))
            cells = [
                Text(item.name, tone(app, "text", bold=True)),
                state,
                Text(fmt.short(item.until) if item.until else "", tone(app, "text-muted")),
                Text(item.reset, tone(app, "text-muted")),
                Text(fmt.short(item.tripped_at) if item.tripped_at else "", tone(app, "text-muted")),
                Text(item.reason or ""),
            ]
            rows.append((item.name, cells))
        return rows

    def var_rows(self, var: dict[str, Any]) -> list[Row]:
        """VaR and CVaR at each level, historical and parametric, in quote currency."""
        rows: list[Row] = []
        for item in var.get("figures") or []:
            level = f"{float(item.get('level', 0)) * 100:.0f}%"
            for measure, label in (("var", "VaR"), ("cvar", "CVaR")):
                name = f"{label} {level}"
                cells = [Text(name, tone(self.app, "text", bold=True))]
                for kind in ("historical", "parametric"):
                    cells.append(Text(fmt.money(float(item.get(f"{kind}_{measure}", 0.0))), justify="right"))
                rows.append((name, cells))
        return rows

    def var_note(self, var: dict[str, Any]) -> Text:
        app = self.app
        risk = self.state.risk.value
        note = Text()
        muted = tone(app, "text-muted")
        if risk is None:
            note.append(self.state.risk.error or "no figures yet", muted)
        elif not var:
            note.append("not computed yet (the risk_metrics job runs every few minutes)", muted)
        else:
            note.append(f"{var.get('horizon', '?')} horizon · {var.get('returns', 0)} returns · ", muted)
            note.append(f"from the {var.get('source', '?')}", muted)
            if risk.var_at is not None:
                note.append(f" · {fmt.short(risk.var_at)}", muted)
            if var.get("note"):
                note.append(f"\n{var['note']}", tone(app, "text-warning"))
        return note

    # --- actions ---------------------------------------------------------------------------------------

    def action_halt(self) -> None:
        self.post_message(HaltRequested())

    def action_resume(self) -> None:
        self.post_message(ResumeRequested())

    def action_reset_breaker(self) -> None:
        name = selected_key(self.query_one("#breakers", DataTable))
        risk = self.state.risk.value
        item = next((b for b in risk.breakers if b.name == name), None) if risk else None
        if item is None:
            self.notify("no breaker selected", severity="warning")
            return
        if not item.tripped:
            self.notify(f"{item.name} is not tripped", severity="warning")
            return

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.post_message(BreakerResetConfirmed(item.name))

        self.app.push_screen(
            ConfirmScreen(
                "Reset breaker",
                f"Reset {item.name} ({item.reason or 'tripped'}) and allow entries again?",
                confirm="Reset",
            ),
            answered,
        )
