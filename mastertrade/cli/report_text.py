"""The morning report as plain text (``mt report``): what a trader reads first, from the figures the
daemon already has: the account (equity and its change since the last report sent, realised and
unrealised P&L), the open positions with their value, the fills since the last report, drawdown and the
day's loss against the risk limits, the last prices, then the daemon's health (services, jobs, alerts).

Prices are rounded to the market's tick when the exchange says it, else to six significant digits
(``mastertrade.prices``); money is in the quote currency, to the cent. Nothing here asks the daemon:
``report.py`` gathers the documents, this module only words them, so a test can hand it any.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from mastertrade.cli.daemon import duration
from mastertrade.engine.api.schemas import AlertInfo, StatusReport
from mastertrade.engine.api.schemas_trading import BalanceInfo, FillInfo, PositionInfo, RiskStatus
from mastertrade.prices import amount, money, pct, price, signed_money
from mastertrade.utc import iso

FILLS_LISTED = 10
"""Fills listed one by one; beyond that the report gives each symbol's buys and sells in one line."""


@dataclass(frozen=True)
class LastReport:
    """The report sent before this one: when, and the account's equity then (``report_mark.py``)."""

    sent_at: datetime
    equity: float
    book: str
    quote: str


@dataclass(frozen=True)
class ReportInputs:
    now: datetime
    since: datetime
    """The start of the period the fills and alerts are counted over: the last report, else 24 h ago."""
    last: LastReport | None
    status: StatusReport
    balance: BalanceInfo
    positions: list[PositionInfo]
    risk: RiskStatus
    fills: list[FillInfo]
    fills_limit: int
    """How many fills the daemon was asked for: as many came back means there may be more."""
    alerts: list[AlertInfo]
    alerts_limit: int


def minute(moment: datetime) -> str:
    """A moment to the minute, UTC: 2026-12-05 06:30 UTC."""
    return iso(moment, "minutes").replace("T", " ").replace("Z", " UTC")


def report_text(inputs: ReportInputs) -> str:
    lines: list[str] = []
    status = inputs.status
    simulated = ", simulated prices" if status.venue.simulated else ""
    lines.append(
        f"MasterTrade daily report, {minute(inputs.now)} ({status.venue.id}{simulated}, {status.mode} mode, "
        f"up {duration(status.uptime_s)})"
    )
    ticks = {s.symbol: s.tick for s in status.symbols}
    lines += ["", *_account(inputs)]
    lines += ["", *_positions(inputs.positions, ticks, inputs.balance.quote)]
    lines += ["", *_fills(inputs, ticks)]
    lines += ["", *_risk(inputs.risk, inputs.balance.quote)]
    lines += ["", *_prices(status)]
    lines += ["", *_daemon(status)]
    lines += ["", *_alerts(inputs)]
    return "\n".join(lines).rstrip() + "\n"


def _account(inputs: ReportInputs) -> list[str]:
    balance = inputs.balance
    quote = balance.quote
    last = inputs.last
    if last is None:
        change = "no earlier report to compare with"
    elif last.book != balance.book or last.quote != quote:
        change = f"the last report was of another account ({last.book}, {last.quote})"
    else:
        delta = balance.equity - last.equity
        share = f", {delta / last.equity * 100:+.2f}%" if last.equity else ""
        change = f"{signed_money(delta)}{share} since the last report ({minute(last.sent_at)})"
    if balance.unrealised_pnl is not None:
        unrealised = signed_money(balance.unrealised_pnl)
    else:
        unrealised = f"unknown (no price yet for {', '.join(balance.at_cost)}: counted at cost)"
    return [
        f"Account ({balance.book}, {quote})",
        f"  Equity {money(balance.equity)} {quote}: {change}",
        f"  Cash {money(balance.cash)} (free {money(balance.free_cash)}), "
        f"positions {money(balance.positions_value)}",
        f"  P&L realised {signed_money(balance.realised_pnl)}, unrealised {unrealised}",
    ]


def _positions(positions: list[PositionInfo], ticks: dict[str, float | None], quote: str) -> list[str]:
    if not positions:
        return ["Open positions: none"]
    lines = [f"Open positions ({len(positions)})"]
    for p in positions:
        tick = ticks.get(p.symbol)
        held = f"  {p.symbol} {amount(p.amount)} at {price(p.average_price, tick)}"
        if p.value_at_cost or p.mark is None:
            lines.append(
                f"{held}: value {money(p.value or p.cost)} at cost, no price yet; unrealised unknown"
            )
            continue
        unrealised = signed_money(p.unrealised_pnl) if p.unrealised_pnl is not None else "unknown"
        share = (
            f" ({p.unrealised_pnl / p.cost * 100:+.2f}%)" if p.unrealised_pnl is not None and p.cost else ""
        )
        lines.append(
            f"{held}, now {price(p.mark, tick)}: value {money(p.value or 0.0)} {quote}, unrealised "
            f"{unrealised}{share}"
        )
    return lines


def _fill_line(fill: FillInfo, tick: float | None) -> str:
    by = f", {fill.role.replace('_', '-')}" if fill.role not in ("order",) else ""
    strategy = f", strategy {fill.strategy_id[:8]}" if fill.strategy_id else ""
    fee = f", fee {fill.fee:,.4g} {fill.fee_asset}" if fill.fee else ""
    return (
        f"  {minute(fill.recorded_at)} {fill.side} {amount(fill.amount)} {fill.symbol} at "
        f"{price(fill.price, tick)}{fee}{by}{strategy}"
    )


def _fills(inputs: ReportInputs, ticks: dict[str, float | None]) -> list[str]:
    fills = inputs.fills
    more = "at least " if len(fills) >= inputs.fills_limit else ""
    head = f"Fills since {minute(inputs.since)}: {more}{len(fills)}"
    if not fills:
        return [head]
    lines = [head]
    if len(fills) <= FILLS_LISTED:
        lines += [_fill_line(fill, ticks.get(fill.symbol)) for fill in fills]
        return lines
    # (symbol, side) -> [count, amount, notional, fees in the quote currency]
    totals: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0.0])
    for fill in fills:
        row = totals[(fill.symbol, fill.side)]
        row[0] += 1
        row[1] += fill.amount
        row[2] += fill.amount * fill.price
        if fill.fee_asset == inputs.balance.quote:
            row[3] += fill.fee
    for (symbol, side), (count, units, notional, fees) in sorted(totals.items()):
        average = price(notional / units if units else None, ticks.get(symbol))
        fee = f", fees {money(fees)} {inputs.balance.quote}" if fees else ""
        lines.append(
            f"  {symbol} {side} {amount(units)} in {int(count)} fills, average {average}, "
            f"{money(notional)} {inputs.balance.quote}{fee}"
        )
    lines.append("  (`mt orders` lists them)")
    return lines


def _risk(risk: RiskStatus, quote: str) -> list[str]:
    limits = risk.limits
    state = f"HALTED: {risk.halt_reason or 'kill switch'}" if risk.halted else "trading"
    if risk.reduce_only:
        state += "; reduce-only (drawdown limit reached)"
    daily = limits.get("daily_loss_limit")
    if daily is not None and risk.daily_loss >= daily:
        state += "; no new entries until the next UTC day (daily loss limit)"
    peak = f" (peak {money(risk.peak_equity)})" if risk.peak_equity is not None else ""
    lines = [
        f"Risk: {state}",
        f"  Drawdown {pct(risk.drawdown)} of {pct(limits.get('max_drawdown'))} allowed{peak}",
        f"  Today's loss {pct(risk.daily_loss)} of {pct(daily)} allowed",
        f"  Exposure {money(risk.exposure)} {quote} ({pct(risk.exposure_pct)} of equity, "
        f"{pct(limits.get('max_exposure'))} allowed); open positions {risk.open_positions} of "
        f"{int(limits.get('max_open_positions', 0))}",
    ]
    tripped = [b for b in risk.breakers if b.tripped]
    if tripped:
        lines += [f"  TRIPPED: {b.name}" + (f" ({b.reason})" if b.reason else "") for b in tripped]
    else:
        lines.append("  Breakers: none tripped")
    figures = (risk.var or {}).get("figures") or []
    first = next((f for f in figures if f.get("historical_var") is not None), None)
    if first is not None:
        horizon = (risk.var or {}).get("horizon")
        lines.append(
            f"  VaR {first['level']:.0%} ({horizon}): {money(first['historical_var'])} {quote}, "
            f"CVaR {money(first['historical_cvar'])}"
        )
    return lines


def _prices(status: StatusReport) -> list[str]:
    lines = ["Last prices"]
    for s in status.symbols:
        when = f" ({minute(s.price_at)})" if s.price_at else ""
        feed = (
            f"; feed failing since {minute(s.feed_error_since)}"
            if s.feed_error and s.feed_error_since
            else ""
        )
        lines.append(f"  {s.symbol}: {price(s.price, s.tick)}{when}{feed}")
    return lines


def _daemon(status: StatusReport) -> list[str]:
    """The services (those not running by state, a stopped one being off or finished), then the jobs'
    last runs."""
    by_state: dict[str, list[str]] = defaultdict(list)
    for s in status.services:
        by_state[s.state].append(s.name)
    head = f"Services: {len(by_state.pop('running', []))} running"
    head += "".join(f"; {state}: {', '.join(names)}" for state, names in sorted(by_state.items()))
    lines = [head]
    for s in status.services:
        if s.restarts or (s.state != "running" and s.last_error):
            error = f", last error: {s.last_error}" if s.last_error else ""
            lines.append(f"  {s.name}: {s.state}, {s.restarts} restarts{error}")
    ran = [job for job in status.jobs if job.last_run is not None]
    if ran:
        lines.append("Jobs")
        for job in ran:
            assert job.last_run is not None
            run = job.last_run
            said = run.summary or run.outcome  # what it did: a night that searched nothing says so
            lines.append(f"  {job.name}: {said} at {minute(run.started_at)}")
    return lines


def _alerts(inputs: ReportInputs) -> list[str]:
    recent = [a for a in inputs.alerts if a.created_at >= inputs.since and a.rule != "report"]
    # the history lists the newest first, up to the limit: when all of those are recent, there may be more
    every = all(a.created_at >= inputs.since for a in inputs.alerts)
    more = "at least " if len(inputs.alerts) >= inputs.alerts_limit and every else ""
    lines = [f"Alerts since {minute(inputs.since)}: {more}{len(recent)}"]
    lines += [f"  CRITICAL: {a.title}" for a in recent if a.severity == "critical"]
    return lines
