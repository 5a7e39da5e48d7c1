"""Live positions (or parts of them) that have no exits at the exchange although their buy asked for
them, and why: shown by ``mt positions`` and ``/v1/positions`` (``unprotected``) until the exits are
placed or the position is sold.

A bracketed limit buy that fills in parts gets exits for what it has bought so far (``live_partial``);
a part worth less than the exchange's minimum notional (Binance's ``NOTIONAL`` filter: 5 USDT on
BTC/USDT), or under its minimum amount, can have none: the exchange refuses such an order. That part is
unprotected until further fills make it big enough. A sell by hand that leaves such a rest of a
bracketed position (``live_bracket_sell``) leaves it without exits the same way. It is said once per
state (a warning in the daemon log and a ``risk_limit`` alert, limit ``exit_unplaced``), not at every
poll, and shown with the position.

The record is kept in the database (``unprotected_parts``, one row per entry order), not only in
memory: a rest left by a sell by hand is never looked at again by the steps that noted it, so a restart
forgot it, and ``mt positions`` showed a bare position as if it were protected. Every start reads the
rows back and says each again once (the daemon's alert history starts anew with it); a row goes when
the entry's exits are placed (``clear``), and, looked at every poll (``prune``), when what is held of
the symbol is sold or covered by exits working at the exchange again.

An OCO leg that no lookup settles (``lost_legs``: its sibling is at the exchange, it is not found and the
exchange cannot say what became of it) makes its position's protection unclear: ``mark_leg`` shows that
with the position too, with its own critical alert, in memory only (the leg's row says it is marked, and
each start notes it again from there).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from mastertrade.db.database import Database
from mastertrade.db.models.protection import UnprotectedRecord
from mastertrade.db.models.trading import OrderRecord
from mastertrade.engine import events
from mastertrade.engine.execution.bracket_sell import BRACKET_EXITS, reserved_by
from mastertrade.engine.execution.exit_cancels import CANCELLING
from mastertrade.engine.execution.ledger import split_symbol
from mastertrade.engine.orders import IN_FLIGHT, Side

if TYPE_CHECKING:
    from mastertrade.engine.execution.ledger import Ledger

log = logging.getLogger(__name__)

LIMIT = "exit_unplaced"
"""The ``RiskBreached`` limit of the alert (``alerts.rules``)."""


def below_minimum(market: dict[str, Any], amount: float, price: float | None) -> str | None:
    """Why the exchange takes no order of ``amount`` at ``price`` in ``market`` (its minimum amount or
    notional, named), or None when it does."""
    base, quote = split_symbol(str(market.get("symbol") or "/"))
    limits = market.get("limits") or {}
    least = (limits.get("amount") or {}).get("min")
    if least is not None and amount < float(least):
        return f"below the exchange's minimum amount of {float(least):g} {base}"
    least_cost = (limits.get("cost") or {}).get("min")
    if least_cost is not None and price is not None and amount * price < float(least_cost):
        return (
            f"worth {amount * price:.8g} {quote}, below the exchange's minimum notional of "
            f"{float(least_cost):g} {quote}"
        )
    return None


class Broker(Protocol):
    """What ``prune`` uses of ``live.LiveBroker`` (a port: this module does not import it)."""

    book: str

    @property
    def journal(self) -> Any: ...
    async def ledger(self) -> Ledger: ...
    def _lots(self, symbol: str, amount: float) -> float | None: ...


class Unprotected:
    """The live broker's record of buys whose filled part has no exits at the exchange: in memory for
    ``by_symbol``, in ``unprotected_parts`` for the next start."""

    def __init__(self, db: Database, book: str) -> None:
        self.db = db
        self.book = book
        self._by_entry: dict[int, tuple[str, str]] = {}
        """Entry order id -> (symbol, why its filled part has no exits)."""
        self._said: set[int] = set()
        """Entries said (warning and alert) by this process: ``remind`` says the others once."""
        self._legs: dict[int, tuple[str, str]] = {}
        """OCO leg id -> (symbol, why its position's protection is unclear): legs no lookup settles
        (``lost_legs``). In memory only: the leg's own row says it is marked, and each start notes it
        again from there."""

    async def load(self) -> None:
        """Read the book's records back (at a start, before anything notes or clears one)."""
        query = select(UnprotectedRecord).where(col(UnprotectedRecord.book) == self.book)
        async with self.db.sessions() as session:
            rows = list((await session.exec(query)).all())
        self._by_entry = {row.entry_order_id: (row.symbol, row.message) for row in rows}

    def remind(self, publish: Any) -> None:
        """Say once each record this process has not said yet (read back at a start): a restarted daemon
        tells again what is still bare."""
        for entry_id, (symbol, message) in sorted(self._by_entry.items()):
            if entry_id not in self._said:
                self._say(entry_id, symbol, message, publish)

    def _say(self, entry_id: int, symbol: str, message: str, publish: Any) -> None:
        self._said.add(entry_id)
        log.warning(message)
        publish(
            events.RiskBreached(
                limit=LIMIT, value=0.0, threshold=0.0, message=message, severity="warning", symbol=symbol
            )
        )

    async def note(self, entry_id: int, symbol: str, message: str, publish: Any) -> None:
        """The entry's filled part has no exits (``message`` says why): kept, and said once per message."""
        if self._by_entry.get(entry_id) == (symbol, message):
            if entry_id not in self._said:
                self._say(entry_id, symbol, message, publish)
            return
        await self._store(entry_id, symbol, message)
        self._by_entry[entry_id] = (symbol, message)
        self._say(entry_id, symbol, message, publish)

    def noted(self, entry_id: int) -> bool:
        """Whether the entry's record is kept (its exits are not at the exchange, for the reason noted)."""
        return entry_id in self._by_entry

    async def _store(self, entry_id: int, symbol: str, message: str) -> None:
        """Write the record (committed before it is said): one row per entry, the newest message."""
        for _ in range(2):  # a second writer's row for the same entry: updated on the second pass
            async with self.db.sessions() as session:
                query = select(UnprotectedRecord).where(
                    col(UnprotectedRecord.book) == self.book,
                    col(UnprotectedRecord.entry_order_id) == entry_id,
                )
                row = (await session.exec(query)).first()
                if row is None:
                    row = UnprotectedRecord(
                        book=self.book, entry_order_id=entry_id, symbol=symbol, message=message
                    )
                else:
                    row.symbol, row.message = symbol, message
                session.add(row)
                try:
                    await session.commit()
                except IntegrityError:
                    await session.rollback()
                    continue
                return
        raise AssertionError(f"the unprotected record of order {entry_id} could not be written")

    async def clear(self, entry_id: int, *, only: str | None = None) -> None:
        """The entry's filled part has its exits (or nothing to protect, or the entry ended); with
        ``only``, only if the record still says that message (another writer may have noted anew)."""
        known = self._by_entry.get(entry_id)
        if known is None or (only is not None and known[1] != only):
            return
        statement = delete(UnprotectedRecord).where(
            col(UnprotectedRecord.book) == self.book, col(UnprotectedRecord.entry_order_id) == entry_id
        )
        if only is not None:
            statement = statement.where(col(UnprotectedRecord.message) == only)
        async with self.db.sessions() as session:
            await session.exec(statement)
            await session.commit()
        if self._by_entry.get(entry_id) == known:
            del self._by_entry[entry_id]
        self._said.discard(entry_id)
        log.info("the filled part of order %s has its exits at the exchange now, or is sold", entry_id)

    async def prune(self, broker: Broker) -> None:
        """Drop the records of symbols sold out (less than one lot step held) or whose holding the exits
        working at the exchange cover again (exits placed by hand, a later bracket's): at every start
        and poll, cheap while there are none."""
        for symbol in sorted({symbol for symbol, _ in self._by_entry.values()}):
            records = [(entry, message) for entry, (sym, message) in self._by_entry.items() if sym == symbol]
            held = (await broker.ledger()).held(symbol)
            lots = broker._lots(symbol, held) if held > 0 else None
            if lots is not None and reserved_by(await _working_exits(broker, symbol)) < held * (1 - 1e-9):
                continue
            for entry, message in records:
                await self.clear(entry, only=message)

    def mark_leg(
        self, leg_id: int, symbol: str, message: str, publish: Any, *, limit: str, severity: str, value: float
    ) -> None:
        """An OCO leg whose state the exchange does not tell (``lost_legs``): its position's protection is
        unclear, shown with the position until the leg is settled; said once per message, with the leg's
        own alert ``limit`` and ``severity``."""
        if self._legs.get(leg_id) == (symbol, message):
            return
        self._legs[leg_id] = (symbol, message)
        log.warning(message)
        publish(
            events.RiskBreached(
                limit=limit, value=value, threshold=0.0, message=message, severity=severity, symbol=symbol
            )
        )

    def clear_leg(self, leg_id: int) -> None:
        """The leg marked is settled (it turned up at the exchange)."""
        if self._legs.pop(leg_id, None) is not None:
            log.info("order %s: its position's exits are known at the exchange now", leg_id)

    def by_symbol(self) -> dict[str, str]:
        """Symbol -> why (part of) its position has no exits at the exchange, or its protection is
        unclear."""
        shown: dict[str, list[str]] = {}
        for symbol, message in (*self._by_entry.values(), *self._legs.values()):
            shown.setdefault(symbol, []).append(message)
        return {symbol: "; ".join(messages) for symbol, messages in shown.items()}


async def _working_exits(broker: Broker, symbol: str) -> list[OrderRecord]:
    """The symbol's exits working at the exchange, less those MasterTrade is cancelling (a sell by hand
    replacing them)."""
    rows: list[OrderRecord] = await broker.journal.orders(book=broker.book, symbol=symbol, states=IN_FLIGHT)
    return [
        row
        for row in rows
        if row.side == Side.SELL.value
        and row.role in BRACKET_EXITS
        and not (row.reason or "").startswith(CANCELLING)
    ]
