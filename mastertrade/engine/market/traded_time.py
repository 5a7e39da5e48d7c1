"""The market time of a workspace's newest record stamped as its daemon ran: what a replay may not start
before.

Orders, fills, equity marks and ledger entries are stamped on the market time of the venue that made
them (``placed_ts``, ``ts``): the wall clock on an exchange, the simulated market's time on the
simulated venue. A replay started in a workspace that ran there, on candles older than that, placed
orders after the old ones and filled them on bars before them (an order of 2026 filled on a 2024 bar),
and a daemon that never traded still marked its books' equity at every closed bar: the equity history
then ran from 2026 back to 2024. ``ReplayVenue`` refuses it at start-up, naming both times
(``replay.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from mastertrade.db.models.trading import EquityPointRecord, FillRecord, LedgerEntry, OrderRecord

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from mastertrade.db.database import Database


@dataclass(frozen=True, slots=True)
class Traded:
    """The newest record of a workspace's books by market time: which (``"order"`` placed, ``"fill"``
    booked, ``"equity"`` mark or ``"ledger"`` entry), what names it (an order's id; an equity mark's or a
    ledger entry's book) and its market time (epoch ms)."""

    what: str
    id: int | str
    at: int

    def said(self) -> str:
        """The record in a sentence, with where the trader sees it."""
        if self.what == "order":
            return f"order {self.id} was placed (`mt orders`)"
        if self.what == "fill":
            return f"order {self.id} filled (`mt orders`)"
        if self.what == "equity":
            return f"equity mark (book {self.id}, the equity history of `GET /v1/equity`) was recorded"
        return f"ledger entry (book {self.id}, `mt balance`) was booked"


async def latest_traded(db: Database) -> Traded | None:
    """The workspace's newest order, fill, equity mark or ledger entry by market time (of those at one
    time, a fill before an order before an equity mark before a ledger entry), None before any."""
    orders = OrderRecord.__table__  # type: ignore[attr-defined]
    fills = FillRecord.__table__  # type: ignore[attr-defined]
    marks = EquityPointRecord.__table__  # type: ignore[attr-defined]
    ledger = LedgerEntry.__table__  # type: ignore[attr-defined]
    async with db.engine.connect() as conn:
        order = await _newest(conn, orders.c.id, orders.c.placed_ts, orders.c.id.desc())
        fill = await _newest(conn, fills.c.order_id, fills.c.ts, fills.c.id.desc())
        mark = await _newest(conn, marks.c.book, marks.c.ts, marks.c.book)
        entry = await _newest(conn, ledger.c.book, ledger.c.ts, ledger.c.id.desc())
    found = [
        *([Traded("order", int(order[0]), int(order[1]))] if order is not None else []),
        *([Traded("fill", int(fill[0]), int(fill[1]))] if fill is not None else []),
        *([Traded("equity", str(mark[0]), int(mark[1]))] if mark is not None else []),
        *([Traded("ledger", str(entry[0]), int(entry[1]))] if entry is not None else []),
    ]
    rank = {"fill": 3, "order": 2, "equity": 1, "ledger": 0}
    return max(found, key=lambda traded: (traded.at, rank[traded.what]), default=None)


async def _newest(conn: AsyncConnection, name: Any, at: Any, tie: Any) -> tuple[Any, Any] | None:
    """(``name``, ``at``) of the row of ``at``'s table with the newest ``at``, ``tie`` ordering those of
    one time; None for an empty table."""
    newest = select(func.max(at)).scalar_subquery()
    row = (await conn.execute(select(name, at).where(at == newest).order_by(tie).limit(1))).first()
    return None if row is None else (row[0], row[1])
