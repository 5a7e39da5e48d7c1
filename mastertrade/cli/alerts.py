"""``mt alerts list|add|remove|test|history``: alert rules, targets and history, through the daemon."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

import typer

from mastertrade.cli.daemon import with_client
from mastertrade.cli.output import JsonOption, info, print_json, print_table
from mastertrade.utc import iso

app = typer.Typer(help="Alert rules, targets (Apprise URLs) and history.", no_args_is_help=True)


def _iso(value: Any) -> str:
    return iso(value, "seconds") if value is not None else ""


@app.command("list")
def list_rules(json_out: Annotated[bool, JsonOption] = False) -> None:
    """List the alert targets (masked), quiet hours and the rules in force."""
    overview = with_client(lambda client: client.alerts(limit=1))
    if json_out:
        print_json(overview.model_dump(mode="json", exclude={"history"}))
        return
    targets = ", ".join(overview.targets) or "none (set [alerts] urls or MT_ALERTS__URLS)"
    quiet = (
        f"{overview.quiet_hours}{' (now)' if overview.quiet_now else ''}" if overview.quiet_hours else "off"
    )
    info(f"targets: {targets}; quiet hours: {quiet}; repeats suppressed for {overview.repeat_window_s:g} s")
    print_table(
        ["id", "name", "kind", "params", "severity"],
        [
            (
                rule.id if rule.id is not None else "built-in",
                rule.name,
                rule.kind,
                ", ".join(
                    f"{key}={json.dumps(value) if isinstance(value, dict | list) else value}"
                    for key, value in rule.params.items()
                ),
                rule.severity or "default",
            )
            for rule in overview.rules
        ],
    )


@app.command("add")
def add(
    kind: Annotated[
        str | None,
        typer.Argument(
            help="price_cross, pct_move, signal (the default with --when), order_filled, risk_limit, "
            "circuit_breaker, goal_milestone, strategy, service_failure, data_source or whale.",
            show_default=False,
        ),
    ] = None,
    symbol: Annotated[str | None, typer.Option(help="Symbol the rule watches, e.g. BTC/USDT.")] = None,
    level: Annotated[float | None, typer.Option(help="price_cross: the price level.")] = None,
    direction: Annotated[str | None, typer.Option(help="price_cross: above, below or any (default).")] = None,
    pct: Annotated[float | None, typer.Option(help="pct_move: the move in percent.")] = None,
    window: Annotated[
        str | None,
        typer.Option(
            help="pct_move: the window, like 15m, 1h (default), 1d, 30d; a move from its low or high, "
            "timed to 1% of it."
        ),
    ] = None,
    service: Annotated[str | None, typer.Option(help="service_failure: only this service.")] = None,
    when: Annotated[
        str | None,
        typer.Option(
            help="signal: a condition in the genome language, e.g."
            ' \'{"<": [{"feature": "fear_greed"}, 20]}\'.'
        ),
    ] = None,
    timeframe: Annotated[
        str | None, typer.Option(help="signal: the bars it is evaluated on (default: [market] timeframe).")
    ] = None,
    severity: Annotated[
        str | None, typer.Option(help="info, warning or critical (default: the kind's).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="A name for the rule (up to 128 characters).")] = None,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Add an alert rule, e.g. `mt alerts add price_cross --symbol BTC/USDT --level 70000`.

    A signal rule alerts when a condition written like a strategy's rule becomes true as a bar closes,
    evaluated exactly as strategies are (indicators, prices, alternative data, no lookahead):
    `mt alerts add --when '{"<": [{"feature": "fear_greed"}, 20]}' --symbol BTC/USDT`.
    """
    from mastertrade.errors import UserInputError

    if kind is None:
        if when is None:
            raise UserInputError("missing KIND: price_cross, pct_move, ... or a condition with --when")
        kind = "signal"
    condition: object = None
    if when is not None:
        try:
            condition = json.loads(when)
        except json.JSONDecodeError as exc:
            raise UserInputError(
                f"invalid --when {when!r}: not JSON ({exc.msg} at column {exc.colno})"
            ) from None
    for option, choice, allowed in (
        ("--direction", direction, ("above", "below", "any")),
        ("--severity", severity, ("info", "warning", "critical")),
    ):
        if choice is not None and choice not in allowed:
            raise UserInputError(
                f"invalid {option} {choice!r}: must be {', '.join(allowed[:-1])} or {allowed[-1]}"
            )
    for option, value in (("--level", level), ("--pct", pct)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise UserInputError(f"invalid {option} {value!r}: must be a number above 0")
    if timeframe is not None:
        from mastertrade.cli.series_options import given_timeframe

        given_timeframe(timeframe)  # a signal rule watches the series of that name
    if symbol is not None:
        from mastertrade.engine.market.symbols import parse_symbol

        # typed in any case, as in every other command: the daemon streams the upper-case spelling
        symbol = parse_symbol(symbol, what="--symbol")
    params = {
        "when": condition,
        "timeframe": timeframe,
        "symbol": symbol,
        "level": level,
        "direction": direction,
        "pct": pct,
        "window": window,
        "service": service,
    }
    kind = kind.replace("-", "_")
    _check_rule(kind, params, name=name, severity=severity)
    rule = with_client(lambda client: client.add_alert_rule(kind, name=name, severity=severity, **params))
    if json_out:
        print_json(rule.model_dump(mode="json"))
        return
    info(f"alert rule {rule.id} added: {rule.name}")


def _check_rule(kind: str, params: dict[str, object], *, name: str | None, severity: str | None) -> None:
    """Build the rule here as the daemon will (``alerts.rules.build_rule``), so a bad kind or option is
    named, exit 2, whether or not the daemon runs; what only the daemon knows (the symbols and timeframe
    it streams, its services) it checks when the rule arrives."""
    from mastertrade.cli.runtime import settings
    from mastertrade.engine.alerts.rules import build_rule, check_rule_name

    if name:  # an empty --name is no name: the rule's own ("BTC/USDT crosses 70000")
        check_rule_name(name)
    draft = {key: value for key, value in params.items() if value is not None}
    if kind == "signal":
        draft.setdefault("timeframe", settings().market.timeframe)  # the daemon's default too
    build_rule(kind, draft, name=name, severity=severity)


@app.command("remove")
def remove(
    rule_id: Annotated[int, typer.Argument(min=1, help="The rule's id (see `mt alerts list`).")],
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Remove an alert rule you added."""
    with_client(lambda client: client.remove_alert_rule(rule_id))
    if json_out:
        print_json({"removed": rule_id})
        return
    info(f"alert rule {rule_id} removed")


@app.command("test")
def test(
    message: Annotated[str | None, typer.Option(help="The text to send.")] = None,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Send a test alert to every target now and show what each answered (exit 1 if any failed)."""
    from mastertrade.errors import OperationFailed, UserInputError

    if message is not None and len(message) > (longest := _longest_test_message()):
        raise UserInputError(f"invalid --message: {len(message)} characters, at most {longest}")

    _warn_if_config_changed()
    alert = with_client(lambda client: client.test_alert(message), timeout_s=70.0)
    if json_out:
        print_json(alert.model_dump(mode="json"))
    else:
        print_table(
            ["target", "result", "error"],
            [(t.target, "delivered" if t.ok else "failed", t.error or "") for t in alert.targets],
        )
    if alert.status != "delivered":
        raise OperationFailed(f"the test alert did not reach every target: {alert.error}")


def _warn_if_config_changed() -> None:
    """The test goes to the targets the daemon read at its start: say so first when the files changed
    since (a target just added is not among them, nor is the daemon's "no alert targets" about it)."""
    from mastertrade.cli.config_drift import warn_if_changed
    from mastertrade.errors import MasterTradeError

    try:
        digest = with_client(lambda client: client.status(), timeout_s=5.0).config_digest
    except MasterTradeError:  # the test's own answer matters more than this check
        return
    warn_if_changed(digest)


def _longest_test_message() -> int:
    """The daemon's limit on a test alert's text (its request schema's)."""
    from mastertrade.engine.api.schemas import AlertTestRequest

    return next(
        int(rule.max_length)
        for rule in AlertTestRequest.model_fields["message"].metadata
        if getattr(rule, "max_length", None) is not None
    )


@app.command("history")
def history(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help="How many alerts.")] = 50,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Recent alerts, newest first, with their delivery result: `reached` counts the targets that had
    the alert (a `failed` alert may have reached some of them); `--json` has each target's result."""
    alerts = with_client(lambda client: client.alert_history(limit=limit))
    if json_out:
        print_json([alert.model_dump(mode="json") for alert in alerts])
        return
    print_table(
        ["id", "time", "severity", "title", "status", "reached", "repeats", "attempts"],
        [
            (
                a.id,
                _iso(a.created_at),
                a.severity,
                a.title,
                a.status,
                f"{sum(t.ok for t in a.targets)} of {len(a.targets)}" if a.targets else "-",
                a.repeats,
                a.attempts,
            )
            for a in alerts
        ],
        right=["id", "reached", "repeats", "attempts"],
    )
