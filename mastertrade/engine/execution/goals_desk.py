"""The goals desk: the goals' progress on the account's equity history, the risk factor they and the
drawdown give entries, the report ``/v1/goals`` serves and the scheduled goal snapshot (``goal_snapshots``
job), which publishes a ``GoalMilestone`` for each milestone crossed since the previous snapshot."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mastertrade.config import Settings
from mastertrade.engine import events
from mastertrade.engine.execution.account import Account
from mastertrade.engine.risk.check import PortfolioSnapshot
from mastertrade.engine.sizing.factor import RiskFactor, risk_factor
from mastertrade.engine.sizing.goals import Goal, GoalProgress, goal_progress
from mastertrade.engine.sizing.store import GoalStore
from mastertrade.utc import iso

MILESTONES = (0.25, 0.5, 0.75, 1.0)


class GoalsDesk:
    """See the module docstring. ``store`` holds the goals (``mt goal add|remove``)."""

    def __init__(self, settings: Settings, account: Account, store: GoalStore) -> None:
        self.settings = settings
        self.account = account
        self.store = store

    async def start(self) -> None:
        await self.store.list()  # creates the configured goals on first use

    async def risk_factor(self, portfolio: PortfolioSnapshot | None = None) -> RiskFactor:
        portfolio = portfolio or await self.account.portfolio()
        progress = await self.progress()
        return risk_factor(
            progress, portfolio.drawdown, self.settings.sizing, self.settings.risk.max_drawdown
        )

    async def progress(self, goals: Sequence[Goal] | None = None) -> list[GoalProgress]:
        history = await self.account.history()
        found = []
        for goal in goals if goals is not None else await self.store.list():
            progress = goal_progress(goal, history, tolerance=self.settings.sizing.schedule_tolerance)
            if progress is not None:
                found.append(progress)
        return found

    async def report(self) -> dict[str, Any]:
        goals = await self.store.list()
        progress = {item.goal.id: item for item in await self.progress(goals)}
        factor = await self.risk_factor()
        return {
            "goals": [
                progress[goal.id].as_dict()
                if goal.id in progress
                else {
                    "id": goal.id,
                    "name": goal.name,
                    "kind": goal.kind.value,
                    "target": goal.target,
                    "period": goal.period.value,
                    "deadline": goal.deadline,
                    "description": goal.describe(),
                    "status": "no equity history yet",
                }
                for goal in goals
            ],
            "risk_factor": factor.as_dict(),
        }

    async def snapshot(self) -> dict[str, Any]:
        """The scheduled goal snapshot: stored, and a ``GoalMilestone`` for each milestone crossed since
        the previous one. A goal the previous snapshot does not hold (just added: adding one takes a
        snapshot, ``POST /v1/goals``; or the first snapshot of a workspace) is seen for the first time:
        its progress so far is where it starts, not milestones reached now (a value goal of twice the
        account announced 25% and 50% as soon as it was added). So is a goal the previous snapshot holds
        without progress (it was taken before the account had an equity point): its first progress is
        where it starts. In a new period a period goal starts again from nothing.

        A milestone is announced once (a period goal's once a period): the snapshot keeps each goal's
        highest progress so far (``high_water``, the progress where it started included), and only
        milestones above it are announced, so an account hovering at a milestone does not announce it
        again after every dip."""
        report = await self.report()
        previous = await self.account.risk.store.latest_snapshot("goals", self.account.book)
        before = {item.get("id"): item for item in (previous.data.get("goals", []) if previous else [])}
        stored = _jsonable(report)
        for item, kept in zip(report["goals"], stored["goals"], strict=True):
            now = item.get("progress")
            if now is None or not math.isfinite(now):
                continue
            seen = before.get(item["id"])
            kept["high_water"] = now
            if seen is None or seen.get("progress") is None:
                continue
            was = 0.0
            if seen.get("period_start") == kept.get("period_start"):
                was = max(seen.get("progress") or 0.0, seen.get("high_water") or 0.0)
                kept["high_water"] = max(was, now)
            for milestone in MILESTONES:
                if was < milestone <= now:
                    self.account.emit(
                        events.GoalMilestone(
                            goal_id=str(item["id"]),
                            name=item["name"],
                            milestone=f"{milestone:.0%}",
                            progress_pct=now * 100,
                            message=f"{item['description']}: {now:.0%} of target",
                        )
                    )
        await self.account.risk.store.save_snapshot("goals", self.account.book, stored)
        return report


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
