"""Exit signals a live strategy still owes: its exits resting at the exchange could not be taken back.

A strategy's exit signal takes back its stop and take-profit resting at the exchange (``native_stops``),
which hold its coins, then sells what it holds (``Trader``). When the exchange will not take them back (the
cancel failed, or its answer is unknown: the exits may still sell), they still hold those coins: the sell
takes only what the strategy holds beside them. Sized as all it holds, it was cut by the risk check to the
coins free beside them, which are other owners' (the account's own, another strategy's), and booked as the
strategy's: its position then counted coins it never had, and the account's own lost them.

The rest of the exit is owed: at the symbol's next prices, not sooner than ``RETRY_S`` after the last try,
the trader takes the exits back again and, once none rests, sells what the strategy holds; one that filled
meanwhile sold the position itself, and nothing is owed. Meanwhile the exits keep protecting the position
at the exchange, and its protection keeps watching it.

What a trader expects of an exit the strategy decided is that it is carried out, also across a restart.
Kept in memory only, a restart forgot it: the strategy held its position until its next exit signal or a
protection level, though the exchange took cancels again. So the journal keeps it (``owed_exits``, one row
per strategy and symbol): written when the exit is first owed, deleted once it is paid (its sell sent, or
the position gone: its exits sold it, a sell by hand took it), and read back at every start, where each
owed exit is said once and tried at the symbol's first prices. It is carried out for a strategy paused or
retired meanwhile too: its exit was decided while it traded, and its position is still its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from mastertrade.db.database import Database
from mastertrade.db.models.protection import OwedExitRecord

log = logging.getLogger(__name__)

RETRY_S = 5.0
"""How long an owed exit waits before its next try, so an exchange refusing cancels is not asked at every
price update."""


@dataclass(frozen=True)
class OwedExit:
    strategy_id: str
    symbol: str
    bar_ts: int
    """The open time of the bar whose close gave the exit signal (epoch ms)."""
    not_before: datetime
    """No try before this time (``RETRY_S`` after the last; at a start, at once)."""


class OwedExits:
    """The owed exits of one trader's book, by strategy and symbol (see the module docstring): in memory
    for ``due``, in ``owed_exits`` for the next start."""

    def __init__(self, db: Database | None, book: str, clock: Callable[[], datetime]) -> None:
        self.db = db
        """Where they are kept; None: in memory only (a trader without live protections, which never owes
        one: nothing rests at an exchange for it)."""
        self.book = book
        self.clock = clock
        self._owed: dict[tuple[str, str], OwedExit] = {}

    async def load(self) -> list[OwedExit]:
        """Read the book's owed exits back (at a start), each due at once, and say each once."""
        if self.db is None:
            return []
        query = select(OwedExitRecord).where(col(OwedExitRecord.book) == self.book)
        async with self.db.sessions() as session:
            rows = list((await session.exec(query)).all())
        now = self.clock()
        self._owed = {
            (row.strategy_id, row.symbol): OwedExit(row.strategy_id, row.symbol, row.bar_ts, now)
            for row in rows
        }
        for owed in self._owed.values():
            log.warning(
                "strategy %s: its exit signal at bar %d in %s is still owed (its exits resting at the "
                "exchange were not taken back before the daemon stopped): carried out at the next prices",
                owed.strategy_id,
                owed.bar_ts,
                owed.symbol,
            )
        return list(self._owed.values())

    async def owe(self, strategy_id: str, symbol: str, bar_ts: int) -> None:
        """``strategy_id``'s exit in ``symbol`` (its signal at bar ``bar_ts``) is owed, tried again after
        ``RETRY_S``; written to the journal when it was not owed yet."""
        key = (strategy_id, symbol)
        known = self._owed.get(key)
        if known is None:
            await self._store(strategy_id, symbol, bar_ts)
        later = self.clock() + timedelta(seconds=RETRY_S)
        self._owed[key] = OwedExit(strategy_id, symbol, known.bar_ts if known else bar_ts, later)

    async def paid(self, strategy_id: str, symbol: str) -> None:
        """Nothing is owed of ``strategy_id``'s exit in ``symbol`` (it sold, or its position is gone)."""
        if self._owed.pop((strategy_id, symbol), None) is None or self.db is None:
            return
        statement = delete(OwedExitRecord).where(
            col(OwedExitRecord.book) == self.book,
            col(OwedExitRecord.strategy_id) == strategy_id,
            col(OwedExitRecord.symbol) == symbol,
        )
        async with self.db.sessions() as session:
            await session.exec(statement)
            await session.commit()

    def owes(self, strategy_id: str, symbol: str) -> bool:
        return (strategy_id, symbol) in self._owed

    def due(self, symbol: str) -> list[OwedExit]:
        """The owed exits in ``symbol`` that may be tried again now."""
        now = self.clock()
        return [owed for owed in self._owed.values() if owed.symbol == symbol and owed.not_before <= now]

    async def _store(self, strategy_id: str, symbol: str, bar_ts: int) -> None:
        """Write the owed exit (committed before the trader moves on); one row per strategy and symbol."""
        if self.db is None:
            return
        try:
            async with self.db.sessions() as session:
                session.add(
                    OwedExitRecord(book=self.book, strategy_id=strategy_id, symbol=symbol, bar_ts=bar_ts)
                )
                await session.commit()
        except IntegrityError:  # kept already (a run that stopped before it was paid): it stays owed
            return
