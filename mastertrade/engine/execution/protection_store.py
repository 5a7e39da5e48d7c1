"""The protections table: each live position's protective levels and where its exit stands.

Every change of state is one conditional update (``... WHERE state = <expected>``), so a protection moves
once however many callers race for it (two daemons on one Postgres database, a tick and housekeeping):
the loser sees ``None`` and reloads. See ``db/models/protection.py`` for the states.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from mastertrade.db.database import Database
from mastertrade.db.models.protection import ProtectionRecord
from mastertrade.db.types import utcnow
from mastertrade.engine.execution.protection import Levels


class Guard(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    TRIGGERED = "triggered"
    CLOSED = "closed"


OPEN_STATES = (Guard.PENDING, Guard.ACTIVE, Guard.TRIGGERED)


def levels_of(row: ProtectionRecord) -> Levels:
    """The levels of an armed protection."""
    assert row.entry_price is not None
    return Levels(row.entry_price, row.stop_loss, row.take_profit, row.trailing_stop, row.trail_peak)


def protection_info(row: ProtectionRecord) -> dict[str, Any]:
    """A protection as ``mt risk status --json`` and ``/v1/risk`` show it."""
    levels = levels_of(row) if row.entry_price is not None else None
    return {
        "id": row.id,
        "symbol": row.symbol,
        "strategy_id": row.strategy_id,
        "state": row.state,
        "amount": row.amount,
        "entry_price": row.entry_price,
        "stop_price": levels.stop if levels else None,
        "stop_role": levels.stop_role if levels and levels.stop is not None else None,
        "take_price": levels.take if levels else None,
        "trail_peak": row.trail_peak if row.trailing_stop is not None else None,
        "stop_loss": row.stop_loss,
        "take_profit": row.take_profit,
        "trailing_stop": row.trailing_stop,
        "trigger": row.trigger,
        "exit_client_order_id": row.exit_client_order_id,
        "entry_client_order_id": row.entry_client_order_id,
        "reason": row.reason,
    }


class ProtectionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        book: str,
        symbol: str,
        strategy_id: str | None,
        entry_client_order_id: str,
        *,
        stop_loss: float | None,
        take_profit: float | None,
        trailing_stop: float | None,
    ) -> ProtectionRecord:
        """A pending protection for an entry about to be journaled and sent (committed first)."""
        row = ProtectionRecord(
            book=book,
            symbol=symbol,
            strategy_id=strategy_id,
            state=Guard.PENDING.value,
            entry_client_order_id=entry_client_order_id,
            stop_loss=stop_loss,
            take_profit=take_profit,
            trailing_stop=trailing_stop,
        )
        async with self.db.sessions() as session:
            session.add(row)
            await session.commit()
            await session.refresh(row)
        return row

    async def open(self, book: str) -> list[ProtectionRecord]:
        """The book's protections not closed yet, oldest first."""
        query = (
            select(ProtectionRecord)
            .where(
                col(ProtectionRecord.book) == book,
                col(ProtectionRecord.state).in_([state.value for state in OPEN_STATES]),
            )
            .order_by(col(ProtectionRecord.id))
        )
        async with self.db.sessions() as session:
            return list((await session.exec(query)).all())

    async def get(self, protection_id: int) -> ProtectionRecord:
        async with self.db.sessions() as session:
            row = await session.get(ProtectionRecord, protection_id)
        assert row is not None, f"protection {protection_id} vanished"
        return row

    async def move(
        self, row: ProtectionRecord, expected: Guard, target: Guard, **values: Any
    ) -> ProtectionRecord | None:
        """Set ``values`` and the state ``target`` if the row is still in ``expected``; the updated row,
        or None when another caller moved it first."""
        assert row.id is not None
        statement = (
            update(ProtectionRecord)
            .where(col(ProtectionRecord.id) == row.id, col(ProtectionRecord.state) == expected.value)
            .values(state=target.value, updated_at=utcnow(), **values)
        )
        async with self.db.sessions() as session:
            result = await session.exec(statement)
            await session.commit()
            moved = result.rowcount == 1
        return await self.get(row.id) if moved else None

    async def set_peak(self, row: ProtectionRecord, peak: float) -> ProtectionRecord:
        """Raise the trailing peak of an active protection (never lowers it)."""
        assert row.id is not None
        statement = (
            update(ProtectionRecord)
            .where(
                col(ProtectionRecord.id) == row.id,
                col(ProtectionRecord.state) == Guard.ACTIVE.value,
                col(ProtectionRecord.trail_peak) < peak,
            )
            .values(trail_peak=peak, updated_at=utcnow())
        )
        async with self.db.sessions() as session:
            await session.exec(statement)
            await session.commit()
        return await self.get(row.id)
