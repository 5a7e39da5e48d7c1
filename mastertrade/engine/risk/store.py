"""The risk manager's persisted state: breaker states, the audit log, and metric snapshots.

Breaker states survive a restart (a tripped breaker stays tripped); the kill switch is the breaker named
``kill_switch``, and its row's ``data`` also keeps the drawdown baseline that ``mt risk resume`` sets.
Every decision the risk manager takes is one row of ``risk_audit``: approvals, resizes and rejections
with their reasons, breaker trips and resets, halts and resumes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select

from mastertrade.db.database import Database
from mastertrade.db.models.trading import BreakerRecord, RiskAuditRecord, TradingSnapshot
from mastertrade.db.types import utcnow
from mastertrade.engine.risk.breakers import Breaker, BreakerState


def audit_info(record: RiskAuditRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "at": record.at,
        "kind": record.kind,
        "book": record.book,
        "client_order_id": record.client_order_id,
        "strategy_id": record.strategy_id,
        "symbol": record.symbol,
        "side": record.side,
        "requested": record.requested,
        "amount": record.amount,
        "reason": record.reason,
        "data": record.data,
    }


class RiskStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def load_breakers(self) -> list[BreakerState]:
        async with self.db.sessions() as session:
            rows = (await session.exec(select(BreakerRecord))).all()
        states = []
        for row in rows:
            try:
                name = Breaker(row.name)
            except ValueError:
                continue  # a breaker a newer version added
            states.append(
                BreakerState(name, row.tripped, row.reason, row.tripped_at, row.until, dict(row.data))
            )
        return states

    async def save_breaker(self, state: BreakerState) -> None:
        async with self.db.sessions() as session:
            row = await session.get(BreakerRecord, state.name.value)
            if row is None:
                row = BreakerRecord(name=state.name.value)
            row.tripped = state.tripped
            row.reason = state.reason
            row.tripped_at = state.tripped_at
            row.until = state.until
            row.data = dict(state.data)
            row.updated_at = utcnow()
            session.add(row)
            await session.commit()

    async def audit(
        self,
        kind: str,
        reason: str,
        *,
        book: str | None = None,
        client_order_id: str | None = None,
        strategy_id: str | None = None,
        symbol: str | None = None,
        side: str | None = None,
        requested: float | None = None,
        amount: float | None = None,
        data: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> RiskAuditRecord:
        record = RiskAuditRecord(
            at=at or utcnow(),
            kind=kind,
            reason=reason,
            book=book,
            client_order_id=client_order_id,
            strategy_id=strategy_id,
            symbol=symbol,
            side=side,
            requested=requested,
            amount=amount,
            data=data or {},
        )
        async with self.db.sessions() as session:
            session.add(record)
            await session.commit()
            await session.refresh(record)
        return record

    async def audit_log(self, *, limit: int = 50, kind: str | None = None) -> list[RiskAuditRecord]:
        query = select(RiskAuditRecord).order_by(col(RiskAuditRecord.id).desc()).limit(limit)
        if kind is not None:
            query = query.where(col(RiskAuditRecord.kind) == kind)
        async with self.db.sessions() as session:
            return list((await session.exec(query)).all())

    async def save_snapshot(
        self, kind: str, book: str, data: dict[str, Any], at: datetime | None = None
    ) -> None:
        async with self.db.sessions() as session:
            session.add(TradingSnapshot(kind=kind, book=book, data=data, at=at or utcnow()))
            await session.commit()

    async def latest_snapshot(self, kind: str, book: str) -> TradingSnapshot | None:
        query = (
            select(TradingSnapshot)
            .where(col(TradingSnapshot.kind) == kind, col(TradingSnapshot.book) == book)
            .order_by(col(TradingSnapshot.id).desc())
            .limit(1)
        )
        async with self.db.sessions() as session:
            return (await session.exec(query)).first()
