"""Equity curves for the API: a book's recorded equity history, and thinning a long curve for a chart.

The trading core records every book's equity at each closed bar (``equity_points``: market time, epoch
ms). ``recent_equity`` reads the newest points straight from that table with a ``LIMIT``, so a long
history costs no more than what is asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlmodel import col, select

from mastertrade.db.models.trading import EquityPointRecord

if TYPE_CHECKING:
    from mastertrade.db.database import Database

Point = tuple[int, float]


async def recent_equity(db: Database, book: str, limit: int | None = None) -> list[Point]:
    """``(ts, equity)`` of ``book``, oldest first: the newest ``limit`` points (all when None)."""
    query = select(EquityPointRecord.ts, EquityPointRecord.equity).where(col(EquityPointRecord.book) == book)
    if limit is not None:
        query = query.order_by(col(EquityPointRecord.ts).desc()).limit(limit)
    else:
        query = query.order_by(col(EquityPointRecord.ts))
    async with db.sessions() as session:
        rows = (await session.exec(query)).all()
    points = [(int(ts), float(equity)) for ts, equity in rows]
    if limit is not None:
        points.reverse()
    return points


def thin(points: Sequence[Point], most: int) -> list[Point]:
    """At most ``most`` points of a curve, evenly spaced, the first and the last always kept."""
    n = len(points)
    if n <= most:
        return list(points)
    if most < 2:
        return [points[-1]] if most == 1 else []
    step = (n - 1) / (most - 1)
    return [points[round(i * step)] for i in range(most)]
