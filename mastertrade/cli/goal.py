"""``mt goal list|add|remove|progress``: the trader's goals, their progress and the risk factor."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, cast

import typer

from mastertrade.cli.daemon import with_client
from mastertrade.cli.output import JsonOption, info, print_json, print_table

if TYPE_CHECKING:
    from mastertrade.engine.api.schemas_trading import GoalInfo, GoalKindName, PeriodName

app = typer.Typer(
    help="Goals: targets, progress, projected dates and the risk factor they set.", no_args_is_help=True
)


def _date(value: datetime | None) -> str:
    return value.date().isoformat() if value is not None else ""


def _achieved(goal: GoalInfo) -> str:
    if goal.achieved is None:
        return ""
    return f"{goal.achieved:,.2%}" if goal.kind == "return" else f"{goal.achieved:,.2f}"


def _target(goal: GoalInfo) -> str:
    return f"{goal.target:,.2%}" if goal.kind == "return" else f"{goal.target:,.2f}"


def _projected(goal: GoalInfo) -> str:
    """When the goal is reached at the current pace; a periodic goal that this pace leaves short says so
    (its next period starts over), and a value goal's date past its deadline is marked."""
    if goal.projected is not None:
        late = goal.deadline is not None and goal.projected > goal.deadline
        return _date(goal.projected) + (" (after the deadline)" if late else "")
    if goal.kind != "value" and goal.progress is not None and goal.progress < 1:
        return f"not this {goal.period}"
    return ""


@app.command("list")
def list_goals(json_out: Annotated[bool, JsonOption] = False) -> None:
    """The goals with their targets and periods."""
    report = with_client(lambda client: client.goals())
    if json_out:
        print_json([goal.model_dump(mode="json") for goal in report.goals])
        return
    print_table(
        ["id", "name", "kind", "target", "period", "deadline"],
        [(g.id, g.name, g.kind, _target(g), g.period, _date(g.deadline)) for g in report.goals],
        right=["id", "target"],
    )


@app.command("progress")
def progress(json_out: Annotated[bool, JsonOption] = False) -> None:
    """Progress of each goal, its projected date, and the current risk factor with its reasons."""
    report = with_client(lambda client: client.goals())
    if json_out:
        print_json(report.model_dump(mode="json"))
        return
    print_table(
        ["id", "goal", "achieved", "target", "progress", "due by now", "status", "projected"],
        [
            (
                g.id,
                g.description,
                _achieved(g),
                _target(g),
                "" if g.progress is None else f"{g.progress:.1%}",
                "" if g.expected is None else f"{g.expected:.1%}",
                g.status or "",
                _projected(g),
            )
            for g in report.goals
        ],
        right=["achieved", "target", "progress", "due by now"],
    )
    info(f"risk factor {report.risk_factor.value:.2f}")
    for reason in report.risk_factor.reasons:
        info(f"  - {reason}")


def _target_value(kind: str, text: str) -> float:
    from mastertrade.errors import UserInputError

    raw = text.strip().replace(",", "").replace("_", "")
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise UserInputError(f"invalid --target {text!r}: a number, or a percentage like 10%") from None
    if not value > 0:
        raise UserInputError(f"invalid --target {text!r}: must be positive")
    if not value <= 1e12:  # also nan and inf: no goal is that big, and its arithmetic would overflow
        raise UserInputError(f"invalid --target {text!r}: must be a finite number up to 1e12")
    if kind != "return" and raw.endswith("%"):
        raise UserInputError(
            f"invalid --target {text!r}: a {kind} goal's target is an amount, not a percentage"
        )
    from mastertrade.engine.sizing.goals import SMALLEST_TARGET

    least, shown = SMALLEST_TARGET.get(kind, (0.0, ""))
    if value < least:
        raise UserInputError(f"invalid --target {text!r}: below the smallest {kind} target, {shown}")
    if kind == "return" and not raw.endswith("%") and value >= 1:
        # 150 is almost always meant as 150%, not as 15,000% (and 1 as 1% at least as often as 100%):
        # a bare number is a fraction below 1 (0.1 = 10%); more takes the % sign
        raise UserInputError(
            f"invalid --target {text!r}: a return target without % is a fraction (0.1 = 10%), so this "
            f"would be {value:,.0%} a period; write {raw}% for {raw} percent"
        )
    return value


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A name, e.g. 'quarterly profit'.")],
    kind: Annotated[str, typer.Option("--kind", help="return (per period), profit (per period) or value.")],
    target: Annotated[
        str,
        typer.Option("--target", help="10% (or 0.1, a fraction below 1) for return; an amount otherwise."),
    ],
    period: Annotated[
        str | None,
        typer.Option("--period", help="day, week, month or year (return and profit; default month)."),
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Deadline of a value goal (ISO date).")] = None,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Add a goal, e.g. `mt goal add "big year" --kind return --target 50% --period year`."""
    from mastertrade.engine.api.schemas_trading import GOAL_NAME, GoalCreate
    from mastertrade.engine.market.timeframes import parse_when
    from mastertrade.errors import UserInputError

    if len(name) > 80 or re.fullmatch(GOAL_NAME, name) is None:
        raise UserInputError(
            f"invalid goal name {name!r}: 1 to 80 characters, not only spaces, no tab, newline or other"
            " control character"
        )
    if kind not in ("return", "profit", "value"):
        raise UserInputError(f"invalid --kind {kind!r}: expected return, profit or value")
    if period is not None and kind == "value":
        raise UserInputError(
            f"invalid --period {period!r}: a value goal has no period (give a deadline with --by DATE)"
        )
    period = period or "month"
    if period not in ("day", "week", "month", "year"):
        raise UserInputError(f"invalid --period {period!r}: expected day, week, month or year")
    if by is not None:
        if kind != "value":
            raise UserInputError("--by is for value goals; return and profit goals have a --period")
        parse_when(by, what="--by date")
    body = GoalCreate(
        name=name,
        kind=cast("GoalKindName", kind),  # checked above
        target=_target_value(kind, target),
        period="none" if kind == "value" else cast("PeriodName", period),
        deadline=by,
    )
    goal = with_client(lambda client: client.add_goal(body))
    if json_out:
        print_json(goal.model_dump(mode="json"))
        return
    info(f"goal {goal.id} added: {goal.description}")
    if goal.status == "reached":
        info(
            f"it is reached already ({_achieved(goal)} of {_target(goal)}): "
            "was the target meant to be higher?"
        )


@app.command("remove")
def remove(
    goal_id: Annotated[int, typer.Argument(min=1, help="The goal's id (see `mt goal list`).")],
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Remove a goal."""
    goal = with_client(lambda client: client.remove_goal(goal_id))
    if json_out:
        print_json(goal.model_dump(mode="json"))
        return
    info(f"goal {goal.id} removed: {goal.description}")
