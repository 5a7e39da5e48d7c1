"""The Overview screen's panels: P&L, risk gauges and breakers, goals, latest alerts, and the line that
counts the account's positions and orders the Orders & positions screen marks as unsafe."""

from __future__ import annotations

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text

from mastertrade.engine.api.schemas_trading import GoalInfo
from mastertrade.tui import format as fmt
from mastertrade.tui.state import LiveState, live_state
from mastertrade.tui.widgets.book_rows import MARKET_GONE, NO_EXITS, marked
from mastertrade.tui.widgets.gauges import Usage, gauges
from mastertrade.tui.widgets.glyphs import bar
from mastertrade.tui.widgets.nav_bar import SCREENS
from mastertrade.tui.widgets.panel import StatePanel
from mastertrade.tui.widgets.theme import SEVERITY_TONES, signed_tone, tone
from mastertrade.utc import from_s


class BookWarnings(StatePanel):
    """Shown only while the account holds a position with no exits at the exchange or a position or
    order in a delisted market: how many, in the warning colour, and the key of the screen that marks
    them. It counts the rows that screen marks (``book_rows.markers``), from the same answers. The
    shortest form wraps rather than lose a count where none fits on one line."""

    def draw(self, state: LiveState, width: int) -> Text:
        forms = book_warnings(state)
        text = next((form for form in forms if cell_len(form) <= width), forms[-1] if forms else "")
        return Text(text, tone(self.app, "text-warning", bold=True))

    def sync(self) -> None:
        self.set_class(bool(book_warnings(live_state(self.app))), "-shown")
        self.refresh(layout=True)


def book_warnings(state: LiveState) -> list[str]:
    """The warning, longest form first ("⚠ 1 position without exits · 1 position and 2 orders in a
    delisted market — press 4", then with one count for the delisted market); none when no row is marked."""
    positions = state.positions.value or []
    orders = state.orders.value or []
    bare = marked(positions, NO_EXITS)
    stuck = [(marked(positions, MARKET_GONE), "position"), (marked(orders, MARKET_GONE), "order")]
    total = sum(count for count, _noun in stuck)
    if not bare and not total:
        return []
    exits = [f"{_count(bare, 'position')} without exits"] if bare else []
    named = " and ".join(_count(count, noun) for count, noun in stuck if count)
    gone = [[f"{named} in a delisted market"], [f"{total} in a delisted market"]] if total else [[]]
    forms = [f"⚠ {' · '.join(exits + part)} — press {ORDERS_KEY}" for part in gone]
    return list(dict.fromkeys(forms))  # one form when there is nothing to shorten


ORDERS_KEY = next(key for mode, key, _title in SCREENS if mode == "orders")
"""The key of the Orders & positions screen, where the counted rows are marked."""


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def todays_pnl(state: LiveState) -> tuple[str, float | None, float | None]:
    """(label, change, fraction) of equity since the start of the day of the newest equity mark, up to
    the account's current equity (the figure beside it; the history is fetched less often and lags it).

    With the daemon's history the day is the market's UTC day; with only this session's samples the
    figure covers the session and is labelled so.
    """
    points = list(state.equity)
    if not points:
        return ("Today", None, None)
    last = points[-1]
    balance = state.balance.value
    now = balance.equity if balance is not None else last.equity
    if state.equity_source == "session":
        first = points[0]
        label = "Session"
    else:
        day_start = last.ts - last.ts % 86_400_000
        first = next((point for point in points if point.ts >= day_start), last)
        before = [point for point in points if point.ts < day_start]
        first = before[-1] if before else first  # the last mark of yesterday is today's opening value
        label = "Today"
    change = now - first.equity
    return (label, change, change / first.equity if first.equity else None)


class PnLSummary(StatePanel):
    """Equity, today's (or the session's) P&L, total P&L and open P&L, on one or two lines."""

    def draw(self, state: LiveState, width: int) -> Text:
        app = self.app
        text = Text(no_wrap=True, overflow="ellipsis")
        balance = state.balance.value
        if balance is None:
            text.append(state.balance.error or "no account figures yet", tone(app, "text-muted"))
            return text
        text.append("Equity ", tone(app, "text-muted"))
        text.append(f"{fmt.money(balance.equity)} {balance.quote}", tone(app, "text", bold=True))
        label, change, fraction = todays_pnl(state)
        open_pnl = balance.unrealised_pnl  # None while a position has no price yet: shown unknown
        parts = [
            (label, change, fraction),
            ("Total", balance.realised_pnl + open_pnl if open_pnl is not None else None, None),
            ("Open", open_pnl, None),
        ]
        room = width - text.cell_len
        for name, value, share in parts:
            piece = Text()
            piece.append(f"  {name} ", tone(app, "text-muted"))
            figure = fmt.signed_money(value) + (f" ({fmt.signed_pct(share)})" if share is not None else "")
            piece.append(figure, signed_tone(app, value))
            if piece.cell_len > room:
                text.append("\n")
                room = width
                piece = piece[2:]
            text.append_text(piece)
            room -= piece.cell_len
        return text


class RiskGauges(StatePanel):
    """Exposure, drawdown and daily loss against their limits, VaR, and the breakers in one line."""

    def draw(self, state: LiveState, width: int) -> Text:
        app = self.app
        risk = state.risk.value
        text = Text()
        if risk is None:
            text.append(state.risk.error or "no risk figures yet", tone(app, "text-muted"))
            return text
        limits = risk.limits
        if risk.halted:
            text.append(" HALTED ", tone(app, "text-error", bold=True) + Style(reverse=True))
            text.append(f" {risk.halt_reason or 'kill switch'}\n", tone(app, "text-error"))
        usages = [
            Usage("exposure", risk.exposure_pct, limits.get("max_exposure")),
            Usage("drawdown", risk.drawdown, limits.get("max_drawdown")),
            Usage("daily loss", risk.daily_loss, limits.get("daily_loss_limit")),
            Usage(
                "positions",
                float(risk.open_positions),
                limits.get("max_open_positions"),
                shown=f"{risk.open_positions} / {limits.get('max_open_positions', 0):.0f}",
            ),
        ]
        lines = gauges(app, usages, width)
        for line in lines:
            text.append_text(line)
            text.append("\n")
        text.append_text(var_line(state, width))
        text.append("\n")
        text.append_text(breakers_line(state, width))
        return text


def var_line(state: LiveState, width: int) -> Text:
    """``VaR 95% 123.45 (1.2%)  CVaR 234.56`` from the latest risk-metrics snapshot (historical); CVaR on
    a line of its own when both do not fit ``width``."""
    app_text = Text(no_wrap=True, overflow="ellipsis")
    risk = state.risk.value
    var = risk.var if risk else None
    figures = (var or {}).get("figures") or []
    first = next((item for item in figures if abs(float(item.get("level", 0)) - 0.95) < 1e-9), None)
    app_text.append("VaR 95%".ljust(11))
    if first is None:
        note = (var or {}).get("note") or "not computed yet"
        app_text.append(str(note))
        return app_text
    equity = float((var or {}).get("equity") or 0.0)
    value = float(first.get("historical_var", 0.0))
    share = f" ({fmt.pct(value / equity, 2)})" if equity else ""
    cvar = fmt.money(float(first.get("historical_cvar", 0.0)))
    app_text.append(f"{fmt.money(value)}{share}")
    if app_text.cell_len + len(cvar) + 7 <= width:
        app_text.append(f"  CVaR {cvar}")
    else:  # a figure is never cut to fit: CVaR takes a line of its own
        app_text.append("\n" + "CVaR 95%".ljust(11) + cvar)
    return app_text


def breakers_line(state: LiveState, width: int) -> Text:
    """Every breaker as ● (clear) or ✖ (tripped), or "all clear" when none is tripped."""
    text = Text(no_wrap=True, overflow="ellipsis")
    risk = state.risk.value
    if risk is None:
        return text
    text.append("breakers".ljust(11))
    tripped = [item for item in risk.breakers if item.tripped]
    if not tripped:
        text.append(f"all {len(risk.breakers)} clear", "bold")
        return text
    for item in tripped:
        text.append(f"✖ {item.name} ", "bold")
    return text


class GoalsList(StatePanel):
    """Each goal: a progress bar to its target, its status and the projected date of reaching it."""

    def draw(self, state: LiveState, width: int) -> Text:
        app = self.app
        text = Text()
        report = state.goals.value
        if report is None:
            text.append(state.goals.error or "no goals loaded yet", tone(app, "text-muted"))
            return text
        if not report.goals:
            text.append("no goals: add one with `mt goal add`", tone(app, "text-muted"))
            return text
        name_width = min(18, max(len(goal.name) for goal in report.goals))
        for index, goal in enumerate(report.goals):
            if index:
                text.append("\n")
            progress = goal.progress
            figure = fmt.pct(progress, 0).rjust(5)
            bar_width = max(4, width - name_width - len(figure) - 3)
            text.append(fmt.clip(goal.name, name_width).ljust(name_width) + " ", tone(app, "text", bold=True))
            behind = goal.status is not None and ("behind" in goal.status or goal.status == "missed")
            style = tone(app, "text-warning" if behind else "text-success")
            filled = bar(progress, bar_width).rstrip(" ")
            text.append(filled, style)
            text.append("░" * (bar_width - len(filled)), tone(app, "text-muted"))
            text.append(" " + figure, style)
            detail = goal_detail(goal, width - name_width - 1)
            if detail:
                text.append("\n" + " " * (name_width + 1))
                text.append(detail[: max(0, width - name_width - 1)], tone(app, "text-muted"))
        factor = report.risk_factor.value
        if factor != 1.0:
            text.append(f"\nsizing ×{factor:.2f} for the goals", tone(app, "text-muted"))
        return text


def goal_detail(goal: GoalInfo, room: int) -> str:
    """Status and the projected date ("on schedule · reached 2026-12-09"), shortened to fit ``room``:
    the date goes first, then the status takes a shorter word or an ellipsis, never half of itself
    ("no schedule" shortened to "no" read as a verdict)."""
    status = goal.status or ""
    short = SHORT_STATUS.get(status, status)
    candidates: list[str] = []
    if goal.projected is not None or goal.period_end is not None:
        when, word = (goal.projected, "reached") if goal.projected is not None else (goal.period_end, "ends")
        day = fmt.day(when)
        candidates = [
            f"{status} · {word} {day}",
            f"{status} · {word} {day[5:]}",
            f"{status} · {day[5:]}",
            f"{short} · {day[5:]}",
        ]
    for candidate in (*candidates, status):
        if len(candidate) <= room:
            return candidate
    return fmt.clip(short, room)


SHORT_STATUS = {"on schedule": "on time", "behind schedule": "behind"}
"""Goal statuses in fewer letters, for a narrow panel."""


class LatestAlerts(StatePanel):
    """The newest alerts, one line each, newest first."""

    def __init__(self, count: int = 5, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.count = count

    def draw(self, state: LiveState, width: int) -> Text:
        app = self.app
        text = Text(no_wrap=True, overflow="ellipsis")
        rows = self.count if self.styles.height is None or self.styles.height.is_auto else self.size.height
        items = list(state.alerts)[-max(1, rows) :][::-1]
        if not items:
            read = state.alert_history
            if read.value is not None:
                text.append("no alerts", tone(app, "text-muted"))
            elif read.error:
                text.append(fmt.clip(f"alerts not read: {read.error}", width), tone(app, "text-warning"))
            else:
                text.append("no alerts read yet", tone(app, "text-muted"))
            return text
        for index, item in enumerate(items):
            if index:
                text.append("\n")
            when = from_s(item.at)
            text.append(when.strftime("%m-%d %H:%M "), tone(app, "text-muted"))
            text.append(f"{item.severity[:4]:<4} ", tone(app, SEVERITY_TONES[item.severity], bold=True))
            text.append(fmt.clip(item.text, width - 17))
        return text
