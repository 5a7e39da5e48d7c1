"""``mt risk status|halt|resume|audit``: the risk manager through the daemon.

``halt`` is the kill switch: no new entries until ``resume``, and the open buy orders are cancelled
(exits stay allowed). ``resume`` also resets
every tripped circuit breaker; ``resume BREAKER`` resets just one. The drawdown keeps its peak through a
halt and a resume: only when the drawdown limit has made the account reduce-only does ``resume`` release
it by measuring the drawdown from now on, and it says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mastertrade.cli.daemon import with_client
from mastertrade.cli.output import JsonOption, info, print_json, print_table
from mastertrade.utc import iso

if TYPE_CHECKING:
    from mastertrade.client import DaemonClient
    from mastertrade.engine.api.schemas_trading import OrderInfo, RiskStatus

app = typer.Typer(
    help="Risk: exposure, drawdown, circuit breakers, VaR; the kill switch.", no_args_is_help=True
)


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.2f}%"


def _show(status: RiskStatus) -> None:
    state = "HALTED (kill switch)" if status.halted else "trading"
    if status.reduce_only:
        state += ", reduce-only (drawdown limit)"
    daily = status.limits.get("daily_loss_limit")
    if daily is not None and status.daily_loss >= daily:
        state += ", no new entries until the next UTC day (daily loss limit)"
    # the status is the result, on stdout with its tables, for a script to read; warnings on stderr
    typer.echo(f"{state} ({status.mode})" + (f": {status.halt_reason}" if status.halt_reason else ""))
    limits = status.limits
    print_table(
        ["measure", "now", "limit"],
        [
            ("equity", f"{status.equity:,.2f}", ""),
            (
                "exposure",
                f"{status.exposure:,.2f} ({_pct(status.exposure_pct)})",
                _pct(limits.get("max_exposure")),
            ),
            ("open positions", status.open_positions, int(limits.get("max_open_positions", 0))),
            ("drawdown", _pct(status.drawdown), _pct(limits.get("max_drawdown"))),
            ("today's loss", _pct(status.daily_loss), _pct(limits.get("daily_loss_limit"))),
            ("position size", "", _pct(limits.get("max_position"))),
        ],
        right=["now", "limit"],
    )
    print_table(
        ["breaker", "state", "reason", "until", "resets"],
        [
            (
                b.name,
                "TRIPPED" if b.tripped else "ok",
                b.reason or "",
                iso(b.until) if b.until else "",
                b.reset,
            )
            for b in status.breakers
        ],
    )
    var = status.var or {}
    figures = var.get("figures")
    if figures:
        # the figures are losses in the quote currency, not percentages (3.57 read as 3.57%)
        unit = f" (loss in {var['quote']})" if var.get("quote") else ""
        title = (
            f"VaR/CVaR{unit} over {var.get('horizon')}, from {var.get('returns')} returns of "
            f"{var.get('source')}"
        )
        print_table(
            ["level", "hist. VaR", "hist. CVaR", "param. VaR", "param. CVaR"],
            [
                (
                    f"{f['level']:.0%}",
                    f"{f['historical_var']:,.2f}",
                    f"{f['historical_cvar']:,.2f}",
                    f"{f['parametric_var']:,.2f}",
                    f"{f['parametric_cvar']:,.2f}",
                )
                for f in figures
            ],
            title=title,
            right=["hist. VaR", "hist. CVaR", "param. VaR", "param. CVaR"],
        )
    else:
        typer.echo(f"VaR/CVaR: {var.get('note') or 'not computed yet (job risk_metrics)'}")
    _show_protection(status)


def _show_protection(status: RiskStatus) -> None:
    """Live mode: the protective exits the daemon keeps for open positions, and whether they hold."""
    protection = status.protection
    if protection is None:
        return

    def price(value: float | None) -> str:
        return "" if value is None else f"{value:,.8g}"

    print_table(
        ["symbol", "strategy", "state", "amount", "entry", "stop", "take profit", "trail peak"],
        [
            (
                p.symbol,
                p.strategy_id or "",
                p.state,
                "" if p.amount is None else f"{p.amount:.8g}",
                price(p.entry_price),
                f"{price(p.stop_price)} ({p.stop_role})" if p.stop_price is not None else "",
                price(p.take_price),
                price(p.trail_peak),
            )
            for p in protection.protections
        ],
        title=f"Protected live positions: {protection.protected_positions} (by the {protection.by})",
        right=["amount", "entry", "stop", "take profit", "trail peak"],
    )
    typer.echo(protection.note)
    for held in protection.held_take_profits:
        typer.echo(
            f"take-profit {held.order_id} ({held.symbol} at {price(held.price)}) is kept by the daemon: "
            "it holds only while the daemon runs (the venue has no OCO order lists; the stop rests there)"
        )
    if protection.degraded:
        info(f"PROTECTION DEGRADED: {protection.degraded_reason}")


@app.command("status")
def status(json_out: Annotated[bool, JsonOption] = False) -> None:
    """Exposure, drawdown, breaker states and the latest VaR/CVaR."""
    result = with_client(lambda client: client.risk_status())
    if json_out:
        print_json(result.model_dump(mode="json"))
        return
    _show(result)


@app.command("halt")
def halt(
    reason: Annotated[
        str,
        typer.Option("--reason", help="Why (kept in the audit log; up to 500 characters, one line)."),
    ] = "halted by hand",
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """The kill switch: stop every new entry until `mt risk resume`; the account's open buy orders are
    cancelled (sells, the exits, stay)."""
    from mastertrade.cli.validation import check_reason

    check_reason(reason)

    async def halt_and_look(client: DaemonClient) -> tuple[RiskStatus, list[OrderInfo]]:
        resting = [o for o in await client.orders(open_only=True, limit=1000) if o.side == "buy"]
        result = await client.risk_halt(reason)
        return result, [await client.order(o.id) for o in resting]

    result, buys = with_client(halt_and_look)
    if json_out:
        print_json(result.model_dump(mode="json"))
        return
    # what the halt did is the result: on stdout, for a script to read
    typer.echo(f"trading halted: {result.halt_reason}; exits remain allowed. `mt risk resume` ends it.")
    cancelled = [str(o.id) for o in buys if o.state == "cancelled"]
    if cancelled:
        typer.echo(f"cancelled the open buy orders {', '.join(cancelled)}: they would have been new entries")
    for order in buys:
        if order.state != "cancelled":
            typer.echo(f"buy order {order.id} is {order.state}: see `mt orders show {order.id}`")


@app.command("resume")
def resume(
    breaker: Annotated[
        str | None, typer.Argument(help="Reset only this breaker (default: all, with the kill switch).")
    ] = None,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Release the kill switch and reset tripped breakers. The drawdown keeps its peak, unless the
    drawdown limit had made the account reduce-only: then it is measured from now on (said in the output)."""

    async def both(client: DaemonClient) -> tuple[RiskStatus, RiskStatus]:
        before = await client.risk_status()
        return before, await client.risk_resume(breaker)

    before, result = with_client(both)
    if json_out:
        print_json(result.model_dump(mode="json"))
        return
    _say_drawdown(before, result, whole=breaker is None)
    stopped = [b.name for b in result.breakers if b.tripped and b.name != "kill_switch"]
    if result.halted:
        stopped.insert(0, "kill switch")
    if result.reduce_only:
        stopped.append("drawdown limit (reduce-only)")
    # what the resume did is the result: on stdout, for a script to read
    typer.echo("trading resumed" if not stopped else f"still stopped by: {', '.join(stopped)}")
    daily = result.limits.get("daily_loss_limit")
    if daily is not None and result.daily_loss >= daily:
        typer.echo(
            f"new entries still wait for the next UTC day: today's loss {_pct(result.daily_loss)} "
            f"has reached the {_pct(daily)} daily limit"
        )


def _say_drawdown(before: RiskStatus, after: RiskStatus, *, whole: bool) -> None:
    """What the resume did to the drawdown, in words: kept, or measured anew to release the limit."""
    limit = after.limits.get("max_drawdown")
    peak = "" if before.peak_equity is None else f" below the peak {before.peak_equity:,.2f}"
    if before.reduce_only and not after.reduce_only:
        typer.echo(
            f"drawdown limit released: the drawdown was {_pct(before.drawdown)}{peak}; it is measured "
            f"from now on (equity {after.equity:,.2f}), and a further {_pct(limit)} loss makes the "
            "account reduce-only again"
        )
    elif after.reduce_only:
        reason = "" if whole else " (`mt risk resume` without a breaker name releases it)"
        typer.echo(
            f"still reduce-only: drawdown {_pct(after.drawdown)}{peak} is past the {_pct(limit)} "
            f"limit{reason}"
        )
    elif whole and before.drawdown > 0:
        typer.echo(
            f"drawdown {_pct(after.drawdown)}{peak} is kept: resuming measures it anew only when the "
            "drawdown limit has stopped entries"
        )


@app.command("audit")
def audit(
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="How many, newest first.")] = 30,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """The risk audit log: every approval, resize, rejection, trip, reset, halt and resume."""
    rows = with_client(lambda client: client.risk_audit(limit=limit))
    if json_out:
        print_json([row.model_dump(mode="json") for row in rows])
        return
    print_table(
        ["time", "decision", "symbol", "side", "asked", "amount", "reason"],
        [
            (
                iso(row.at, "seconds"),
                row.kind,
                row.symbol or "",
                row.side or "",
                "" if row.requested is None else f"{row.requested:.8g}",
                "" if row.amount is None else f"{row.amount:.8g}",
                row.reason,
            )
            for row in rows
        ],
    )
