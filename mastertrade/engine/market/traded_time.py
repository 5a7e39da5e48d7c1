"""The market time of a workspace's newest order or fill: what a replay may not start before.

Orders and fills are stamped on the market time of the venue that made them (``placed_ts``, ``ts``): the
wall clock on an exchange, the simulated market's time on the simulated venue. A replay started in a
workspace that traded there, on candles older than that, placed orders after the old ones and filled
them on bars before them (an order of 2026 filled on a 2024 bar): ``ReplayVenue`` refuses it at
start-up, naming both times (``replay.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from mastertrade.db.models.trading import FillRecord, OrderRecord

if TYPE_CHECKING:
    from mastertrade.db.database import Database


@dataclass(frozen=True, slots=True)
class Traded:
    """The newest order placed or fill booked in a workspace: which (``"order"`` or ``"fill"``), its id
    and its market time (epoch ms)."""

    what: str
    id: int
    at: int


async def latest_traded(db: Database) -> Traded | None:
    """The workspace's newest order or fill by market time (a fill when both have the same), None before
    any."""
    orders = OrderRecord.__table__  # type: ignore[attr-defined]
    fills = FillRecord.__table__  # type: ignore[attr-defined]
    async with db.engine.connect() as conn:
        order = (
            await conn.execute(
                select(orders.c.id, orders.c.placed_ts)
                .where(orders.c.placed_ts == select(func.max(orders.c.placed_ts)).scalar_subquery())
                .order_by(orders.c.id.desc())
                .limit(1)
            )
        ).first()
        fill = (
            await conn.execute(
                select(fills.c.order_id, fills.c.ts)
                .where(fills.c.ts == select(func.max(fills.c.ts)).scalar_subquery())
                .order_by(fills.c.id.desc())
                .limit(1)
            )
        ).first()
    found = [
        *([Traded("order", int(order[0]), int(order[1]))] if order is not None else []),
        *([Traded("fill", int(fill[0]), int(fill[1]))] if fill is not None else []),
    ]
    return max(found, key=lambda traded: (traded.at, traded.what == "fill"), default=None)
