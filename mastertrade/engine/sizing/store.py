"""Goals in the database. The defaults of ``[goals]`` (10% a month, 10,000 a month, 1,000,000 of account
value) are created the first time goals are used, once: a goal the user removes stays removed."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlmodel import col, select

from mastertrade.config import GoalsSettings
from mastertrade.db.database import Database
from mastertrade.db.models.trading import GoalRecord, TradingSnapshot
from mastertrade.engine.sizing.goals import Goal, GoalKind, Period
from mastertrade.errors import AlreadyExists, NotFound
from mastertrade.utc import from_ms

_SEEDED = "goals_seeded"


def _goal(row: GoalRecord) -> Goal:
    return Goal(
        name=row.name,
        kind=GoalKind(row.kind),
        target=row.target,
        period=Period(row.period),
        id=row.id,
        deadline=row.deadline,
        created_at=row.created_at,
    )


def default_goals(settings: GoalsSettings) -> list[Goal]:
    goals = []
    if settings.monthly_return is not None:
        goals.append(Goal("monthly return", GoalKind.RETURN, settings.monthly_return, Period.MONTH))
    if settings.monthly_profit is not None:
        goals.append(Goal("monthly profit", GoalKind.PROFIT, settings.monthly_profit, Period.MONTH))
    if settings.portfolio_value is not None:
        goals.append(Goal("portfolio value", GoalKind.VALUE, settings.portfolio_value, Period.NONE))
    return goals


class GoalStore:
    def __init__(self, db: Database, settings: GoalsSettings | None = None) -> None:
        self.db = db
        self.settings = settings or GoalsSettings()
        # A name is checked (the defaults' marker too), then written, with awaits between: these go one
        # at a time, or two requests at once would both pass the check (one daemon per database keeps
        # a lock in the process enough).
        self._adding = asyncio.Lock()
        self._seeding = asyncio.Lock()

    async def _seed(self) -> None:
        async with self._seeding:
            await self._seed_once()

    async def _seed_once(self) -> None:
        async with self.db.sessions() as session:
            marker = (
                await session.exec(select(TradingSnapshot).where(col(TradingSnapshot.kind) == _SEEDED))
            ).first()
            if marker is not None:
                return
            for goal in default_goals(self.settings):
                session.add(
                    GoalRecord(
                        name=goal.name, kind=goal.kind.value, target=goal.target, period=goal.period.value
                    )
                )
            session.add(TradingSnapshot(kind=_SEEDED, book="account", data={}))
            await session.commit()

    async def list(self) -> list[Goal]:
        await self._seed()
        async with self.db.sessions() as session:
            rows = (await session.exec(select(GoalRecord).order_by(col(GoalRecord.id)))).all()
        return [_goal(row) for row in rows]

    async def add(self, goal: Goal) -> Goal:
        async with self._adding:
            return await self._add(goal)

    async def _add(self, goal: Goal) -> Goal:
        await self._seed()
        for existing in await self.list():
            if existing.name == goal.name:
                raise AlreadyExists(
                    f"a goal named {goal.name!r} exists already: goal {existing.id} "
                    f"({existing.describe()}); remove it first or choose another name"
                )
        row = GoalRecord(
            name=goal.name,
            kind=goal.kind.value,
            target=goal.target,
            period=goal.period.value,
            deadline=goal.deadline,
        )
        if goal.created_at is not None:
            row.created_at = goal.created_at
        async with self.db.sessions() as session:
            session.add(row)
            await session.commit()
            await session.refresh(row)
        return _goal(row)

    async def remove(self, goal_id: int) -> Goal:
        await self._seed()
        async with self.db.sessions() as session:
            row = await session.get(GoalRecord, goal_id)
            if row is None:
                raise NotFound(f"no goal {goal_id} (see `mt goal list`)")
            goal = _goal(row)
            await session.delete(row)
            await session.commit()
        return goal


def parse_deadline(text: str | None) -> datetime | None:
    if text is None:
        return None

    from mastertrade.engine.market.timeframes import parse_when

    return from_ms(parse_when(text, what="deadline"))
