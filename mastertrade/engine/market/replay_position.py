"""The replay clock's position, kept in the database (``replay_positions``): the open time of the last
stored bar a replayed market began to serve, per (exchange, timeframe).

A replay that restarted from its first stored candle would move market time backwards under the
workspace's paper book (an order placed at 09:00 filling at the 07:00 bar's price), so the replay venue
records each bar before it shows it and a restart resumes after the recorded bar (``replay.py``).
The furthest any of them went (``reached``) is the workspace's market time: a replay of another
exchange or timeframe may not start before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from mastertrade.db.models.replay import ReplayPosition
from mastertrade.db.types import utcnow
from mastertrade.engine.market.timeframes import timeframe_ms

if TYPE_CHECKING:
    from mastertrade.db.database import Database


@dataclass(frozen=True, slots=True)
class Reached:
    """How far the workspace's replays have taken market time: the close (epoch ms) of the latest bar
    served, and the series that served it."""

    exchange: str
    timeframe: str
    close: int


class ReplayPositions:
    """Read and move the replay clock's position on ``db``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def served(self, exchange: str, timeframe: str) -> int | None:
        """Open time of the last bar served for (exchange, timeframe); None before any."""
        table = ReplayPosition.__table__  # type: ignore[attr-defined]
        async with self.db.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(table.c.served_ts).where(
                        table.c.exchange == exchange, table.c.timeframe == timeframe
                    )
                )
            ).first()
        return None if row is None else int(row[0])

    async def reached(self) -> Reached | None:
        """The latest close over every replayed series (exchange and timeframe), None before any bar."""
        table = ReplayPosition.__table__  # type: ignore[attr-defined]
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(select(table.c.exchange, table.c.timeframe, table.c.served_ts))).all()
        return max(
            (
                Reached(exchange, timeframe, int(ts) + timeframe_ms(timeframe))
                for exchange, timeframe, ts in rows
            ),
            key=lambda reached: reached.close,
            default=None,
        )

    async def record(self, exchange: str, timeframe: str, ts: int) -> None:
        """The bar opened at ``ts`` is being served: a restart resumes after it."""
        table = ReplayPosition.__table__  # type: ignore[attr-defined]
        async with self.db.engine.begin() as conn:
            await conn.execute(
                delete(table).where(table.c.exchange == exchange, table.c.timeframe == timeframe)
            )
            await conn.execute(
                table.insert().values(
                    exchange=exchange, timeframe=timeframe, served_ts=ts, updated_at=utcnow()
                )
            )
