"""Alert history and user rules in the database (tables ``alerts`` and ``alert_rules``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from mastertrade.db.database import Database
from mastertrade.db.models.daemon import AlertRecord, AlertRule


class AlertStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, record: AlertRecord) -> AlertRecord:
        async with self.db.sessions() as session:
            session.add(record)
            await session.commit()
            await session.refresh(record)
            return record

    async def update(self, alert_id: int, **values: Any) -> None:
        async with self.db.sessions() as session:
            await session.exec(update(AlertRecord).where(col(AlertRecord.id) == alert_id).values(**values))
            await session.commit()

    async def add_repeat(self, alert_id: int, at: datetime) -> None:
        async with self.db.sessions() as session:
            await session.exec(
                update(AlertRecord)
                .where(col(AlertRecord.id) == alert_id)
                .values(repeats=AlertRecord.repeats + 1, last_seen_at=at)
            )
            await session.commit()

    async def get(self, alert_id: int) -> AlertRecord | None:
        async with self.db.sessions() as session:
            return await session.get(AlertRecord, alert_id)

    async def since(self, moment: datetime) -> list[AlertRecord]:
        async with self.db.sessions() as session:
            query = (
                select(AlertRecord).where(col(AlertRecord.created_at) >= moment).order_by(col(AlertRecord.id))
            )
            return list((await session.exec(query)).all())

    async def with_status(self, statuses: Iterable[str]) -> list[AlertRecord]:
        async with self.db.sessions() as session:
            query = (
                select(AlertRecord)
                .where(col(AlertRecord.status).in_(list(statuses)))
                .order_by(col(AlertRecord.id))
            )
            return list((await session.exec(query)).all())

    async def history(self, limit: int = 50) -> list[AlertRecord]:
        async with self.db.sessions() as session:
            query = select(AlertRecord).order_by(col(AlertRecord.id).desc()).limit(limit)
            return list((await session.exec(query)).all())

    async def rules(self) -> list[AlertRule]:
        async with self.db.sessions() as session:
            return list((await session.exec(select(AlertRule).order_by(col(AlertRule.id)))).all())

    async def add_rule(
        self, *, name: str, kind: str, params: dict[str, Any], severity: str | None
    ) -> AlertRule:
        rule = AlertRule(name=name, kind=kind, params=json.dumps(params), severity=severity or "")
        async with self.db.sessions() as session:
            session.add(rule)
            await session.commit()
            await session.refresh(rule)
            return rule

    async def remove_rule(self, rule_id: int) -> bool:
        async with self.db.sessions() as session:
            rule = await session.get(AlertRule, rule_id)
            if rule is None:
                return False
            await session.delete(rule)
            await session.commit()
            return True
