"""Cron expressions: a cheap syntax check for config loading, and the next fire time (croniter).

The check runs whenever the settings load, so it stays in plain Python (croniter costs ~70 ms to
import, which every CLI command would pay); croniter computes the schedule inside the daemon.
Schedules are evaluated in UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    (
        "month",
        1,
        12,
        {
            name: number
            for number, name in enumerate(
                ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
            )
        },
    ),
    (
        "day-of-week",
        0,
        7,
        {name: n for n, name in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])},
    ),
)
_ITEM = re.compile(r"(?P<base>\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(?P<step>\d+))?")


def check_cron(expression: str, *, what: str = "cron expression") -> str:
    """Return the expression if it is a valid 5-field cron expression (or an @alias); otherwise raise
    ``ValueError`` naming the bad field and value."""
    text = ALIASES.get(expression.strip().lower(), expression.strip().lower())
    parts = text.split()
    if len(parts) != len(_FIELDS):
        raise ValueError(
            f"{what} {expression!r}: expected 5 fields (minute hour day month weekday) or @hourly/@daily/..."
        )
    for part, (name, low, high, names) in zip(parts, _FIELDS, strict=True):
        for item in part.split(","):
            match = _ITEM.fullmatch(item)
            if not match:
                raise ValueError(f"{what} {expression!r}: invalid {name} field {part!r}")
            if match.group("step") is not None and int(match.group("step")) == 0:
                raise ValueError(f"{what} {expression!r}: step 0 in {name} field {part!r}")
            base = match.group("base")
            if base == "*":
                continue
            for value in base.split("-"):
                number = names.get(value) if not value.isdigit() else int(value)
                if number is None or not low <= number <= high:
                    raise ValueError(f"{what} {expression!r}: {name} value {value!r} is outside {low}-{high}")
    return expression


def next_fire(expression: str, after: datetime) -> datetime:
    """The first time strictly after ``after`` (UTC) at which the schedule fires."""
    from croniter import croniter

    text = ALIASES.get(expression.strip().lower(), expression.strip())
    moment = croniter(text, after.astimezone(UTC)).get_next(datetime)
    assert isinstance(moment, datetime)
    return moment.astimezone(UTC)
