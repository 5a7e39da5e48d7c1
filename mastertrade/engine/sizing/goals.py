"""Goals and their progress, computed from the account's equity history (pure: no I/O, no clock).

Three kinds of goal:

- ``return``: a return over each period (10% a month): achieved = equity / start - 1.
- ``profit``: a profit over each period ($10K a month): achieved = equity - start.
- ``value``: an account value ($1M), with no period; optionally by a deadline.

**Periods** are calendar periods in UTC (``day``, ``week`` from Monday, ``month``, ``year``). ``start`` is
the equity at the period's start: the last point at or before it, or the first point after it when the
history begins inside the period (the schedule then runs from that first point).

**Schedule.** A periodic goal is on schedule when its progress (achieved / target) keeps pace with the
time elapsed in the period: ``expected = elapsed / length``, and ``gap = progress - expected`` (in
fractions of the target: -0.12 is 12 points behind). A value goal has a schedule only with a deadline:
the equity is expected to grow geometrically from its value when the goal was set to the target at the
deadline, and the gap is measured in fractions of that required log-growth; what is due by now
(``expected``) is that schedule's value now over the target, beside ``progress`` (value over target).
Once the deadline has passed unreached the goal is ``missed``: no schedule, no gap (chasing a date that
has gone would keep the risk factor at its top).

**Projection.** Where the goal will be reached at the current pace: for periodic goals, the pace of the
period so far (``start + elapsed / progress``), and only a date inside the period: the next period
starts over from zero, so a pace that needs longer does not reach this period's target at all; for value
goals, the average log-growth of the last 30 days of history (possibly after a deadline). No projection
when the pace is not positive.

"Now" is the time of the newest equity point: market time, so the accelerated simulation ages goals at
its own pace.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from mastertrade.errors import UserInputError


class GoalKind(StrEnum):
    RETURN = "return"
    PROFIT = "profit"
    VALUE = "value"


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
    NONE = "none"


PROJECTION_LOOKBACK = timedelta(days=30)

SMALLEST_TARGET = {"return": (0.0001, "0.01%"), "profit": (0.01, "0.01"), "value": (0.01, "0.01")}
"""The least target of each kind of goal, the least its description can show (a return target of 1e-300
read "0.00% return per month", was reached at once and lowered the goal factor). Checked where goals
are added, not on goals already stored."""

MISSED = "missed"
"""The status of a value goal whose deadline has passed unreached: it has no schedule left (the target
is not "due by now" for ever), so it no longer moves the risk factor."""


@dataclass(frozen=True)
class Goal:
    """A goal as stored: ``target`` is a fraction for ``return`` goals, quote currency otherwise."""

    name: str
    kind: GoalKind
    target: float
    period: Period
    id: int | None = None
    deadline: datetime | None = None
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.target) and self.target > 0):
            raise UserInputError(f"invalid goal target {self.target!r}: must be a positive number")
        if self.kind is GoalKind.VALUE and self.period is not Period.NONE:
            raise UserInputError(f"a value goal has no period (got {self.period.value!r}); use --by DATE")
        if self.kind is not GoalKind.VALUE and self.period is Period.NONE:
            raise UserInputError(f"a {self.kind.value} goal needs a period: day, week, month or year")

    def describe(self) -> str:
        if self.kind is GoalKind.RETURN:
            text = f"{self.target:,.2%} return per {self.period.value}"
        elif self.kind is GoalKind.PROFIT:
            text = f"{self.target:,.2f} profit per {self.period.value}"
        else:
            text = f"account value {self.target:,.2f}"
        if self.deadline is not None:
            text += f" by {self.deadline.date().isoformat()}"
        return text


@dataclass(frozen=True)
class EquityPoint:
    at: datetime
    equity: float


@dataclass(frozen=True)
class GoalProgress:
    """Where a goal stands at ``now``."""

    goal: Goal
    now: datetime
    period_start: datetime | None
    period_end: datetime | None
    start_value: float | None
    current_value: float
    achieved: float
    """Return (fraction), profit (quote) or value (quote), by the goal's kind."""
    progress: float
    """achieved / target (1.0 = reached)."""
    expected: float | None
    """Progress the schedule asks for by now (None: no schedule)."""
    gap: float | None
    """progress - expected, in fractions of the target (negative: behind)."""
    status: str
    projected: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.goal.id,
            "name": self.goal.name,
            "kind": self.goal.kind.value,
            "target": self.goal.target,
            "period": self.goal.period.value,
            "deadline": self.goal.deadline,
            "description": self.goal.describe(),
            "now": self.now,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "start_value": self.start_value,
            "current_value": self.current_value,
            "achieved": self.achieved,
            "progress": self.progress,
            "expected": self.expected,
            "gap": self.gap,
            "status": self.status,
            "projected": self.projected,
        }


def period_bounds(period: Period, at: datetime) -> tuple[datetime, datetime]:
    """The calendar period (UTC) that contains ``at``: [start, end)."""
    at = at.astimezone(UTC)
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if period is Period.DAY:
        return day, day + timedelta(days=1)
    if period is Period.WEEK:
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    if period is Period.MONTH:
        start = day.replace(day=1)
        end = (
            start.replace(year=start.year + 1, month=1)
            if start.month == 12
            else start.replace(month=start.month + 1)
        )
        return start, end
    if period is Period.YEAR:
        start = day.replace(month=1, day=1)
        return start, start.replace(year=start.year + 1)
    raise ValueError("a goal without a period has no period bounds")


def value_at(history: Sequence[EquityPoint], moment: datetime) -> EquityPoint | None:
    """The last point at or before ``moment`` (history sorted by time), else the first after it."""
    if not history:
        return None
    times = [point.at for point in history]
    index = bisect.bisect_right(times, moment) - 1
    return history[index] if index >= 0 else history[0]


def _status(progress: float, gap: float | None, tolerance: float) -> str:
    if progress >= 1:
        return "reached"
    if gap is None:
        return "no schedule"
    if gap < -tolerance:
        return "behind"
    if gap > tolerance:
        return "ahead"
    return "on schedule"


def goal_progress(
    goal: Goal, history: Sequence[EquityPoint], *, tolerance: float = 0.05
) -> GoalProgress | None:
    """The progress of ``goal`` over an equity history sorted by time (None when it is empty)."""
    if not history:
        return None
    now = history[-1].at
    current = history[-1].equity
    if goal.kind is GoalKind.VALUE:
        return _value_progress(goal, history, now, current, tolerance)
    period_start, period_end = period_bounds(goal.period, now)
    base = value_at(history, period_start)
    assert base is not None
    start_value = base.equity
    schedule_start = max(period_start, base.at)
    achieved = current / start_value - 1 if goal.kind is GoalKind.RETURN else current - start_value
    if goal.kind is GoalKind.RETURN and start_value <= 0:
        achieved = 0.0
    progress = achieved / goal.target
    length = (period_end - schedule_start).total_seconds()
    elapsed = (now - schedule_start).total_seconds()
    expected = min(1.0, elapsed / length) if length > 0 else 1.0
    gap = progress - expected
    projected = None
    if 0 < progress < 1 and elapsed > 0:
        try:
            projected = schedule_start + timedelta(seconds=elapsed / progress)
        except OverflowError:  # a pace that reaches it after the year 9999: no date
            projected = None
        if projected is not None and projected > period_end:  # not this period: it then starts over
            projected = None
    return GoalProgress(
        goal,
        now,
        period_start,
        period_end,
        start_value,
        current,
        achieved,
        progress,
        expected,
        gap,
        _status(progress, gap, tolerance),
        projected,
    )


def _value_progress(
    goal: Goal, history: Sequence[EquityPoint], now: datetime, current: float, tolerance: float
) -> GoalProgress:
    progress = current / goal.target
    expected = gap = None
    start_value = None
    if goal.deadline is not None and goal.created_at is not None:
        base = value_at(history, goal.created_at)
        assert base is not None
        start_value = base.equity
        begun = max(goal.created_at, base.at)
        span = (goal.deadline - begun).total_seconds()
        needed = math.log(goal.target / start_value) if start_value > 0 and goal.target > start_value else 0.0
        if span > 0 and needed > 0 and current > 0 and now < goal.deadline:
            elapsed_fraction = min(1.0, max(0.0, (now - begun).total_seconds() / span))
            # in the units of ``progress`` (value / target): the value the schedule asks for by now
            expected = start_value * (goal.target / start_value) ** elapsed_fraction / goal.target
            gap = math.log(current / start_value) / needed - elapsed_fraction
    missed = goal.deadline is not None and now >= goal.deadline and progress < 1
    projected = None
    if progress < 1 and current > 0:
        past = value_at(history, now - PROJECTION_LOOKBACK)
        assert past is not None
        seconds = (now - past.at).total_seconds()
        if seconds > 0 and past.equity > 0 and current > past.equity:
            rate = math.log(current / past.equity) / seconds
            try:
                projected = now + timedelta(seconds=math.log(goal.target / current) / rate)
            except OverflowError:
                projected = None
    return GoalProgress(
        goal,
        now,
        None,
        goal.deadline,
        start_value,
        current,
        current,
        progress,
        expected,
        gap,
        MISSED if missed else _status(progress, gap, tolerance),
        projected,
    )
