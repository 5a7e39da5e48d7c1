"""The order journal: books, orders, fills, ledger entries and the equity history in the database.

Every change to an order goes through here and is checked against the state machine (``engine/orders.py``);
an illegal change raises ``IllegalTransition`` and writes nothing. Fills are the exception: what the
exchange reports (``add_fills``) is always booked; a state it reports that the model does not allow from
ours is taken as a correction when ``orders.CORRECTIONS`` says so (an order we declared never received
that turned up), and otherwise left as it is (an older view of the order than ours), never raised.
Writes that belong together (fills and the order states they cause, an order and its bracket) happen
in one transaction. An order's ``filled``, ``cost``, ``fees`` and ``fee`` columns are recomputed from its
fills whenever fills are added, so they are always the sum of its fills (``fees`` by asset as charged,
``fee`` in the quote currency, None when a fee in a third asset had no price: ``execution/fees.py``); a
fill seen twice (same book, symbol and trade id: exchanges number each market's trades on their own) is
stored once.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mastertrade.db.database import Database
from mastertrade.db.models.trading import EquityPointRecord, FillRecord, LedgerEntry, OrderRecord, TradingBook
from mastertrade.db.types import utcnow
from mastertrade.engine.execution import order_shares
from mastertrade.engine.execution.bracket_sell import set_key
from mastertrade.engine.execution.fees import fee_value, order_fees
from mastertrade.engine.execution.ledger import Fill, Ledger, split_symbol
from mastertrade.engine.execution.matching import MatchResult, WorkingOrder
from mastertrade.engine.orders import (
    IN_FLIGHT,
    IllegalTransition,
    OrderRequest,
    OrderState,
    OrderType,
    check_transition,
    is_correction,
    new_client_order_id,
)
from mastertrade.engine.sizing.goals import EquityPoint
from mastertrade.errors import NotFound
from mastertrade.utc import from_ms

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewFill:
    """A fill to record: ``trade_id`` is the exchange's trade id (or the paper broker's own); its fee is
    ``fee`` in ``fee_asset``, plus ``more_fees`` by asset when the trade was charged in several.
    ``fee_quote`` is all of them in the quote currency when a third asset's price went into it; left
    None, it is worked out from the fill's own price (quote and base fees), or unknown (a third asset)."""

    trade_id: str
    amount: float
    price: float
    fee: float
    fee_asset: str
    ts: int
    fee_quote: float | None = None
    more_fees: dict[str, float] | None = None
    minimum: float | None = None
    """On a live sell's last fill: the least amount the exchange takes in one order (``dust.minimum``)."""


def working_order(row: OrderRecord) -> WorkingOrder:
    assert row.id is not None
    return WorkingOrder(
        id=row.id,
        side=row.side,
        type=OrderType(row.type),
        state=row.state,
        placed_ts=row.placed_ts,
        amount=row.amount,
        equity_fraction=row.equity_fraction,
        price=row.price,
        stop_price=row.stop_price,
        trail=row.trail,
        trail_peak=row.trail_peak,
        oco=row.oco,
        parent_id=row.parent_id,
        role=row.role,
        filled=row.filled,
        stop_loss=row.stop_loss,
        take_profit=row.take_profit,
        trailing_stop=row.trailing_stop,
        reference_price=row.reference_price,
    )


def order_info(row: OrderRecord) -> dict[str, Any]:
    """An order as the API and ``mt orders --json`` show it."""
    return {
        "id": row.id,
        "client_order_id": row.client_order_id,
        "book": row.book,
        "mode": row.mode,
        "symbol": row.symbol,
        "side": row.side,
        "type": row.type,
        "role": row.role,
        "amount": row.amount,
        "equity_fraction": row.equity_fraction,
        "price": row.price,
        "stop_price": row.stop_price,
        "state": row.state,
        "filled": row.filled,
        "average_price": row.cost / row.filled if row.filled > 0 else None,
        "fee": row.fee,
        "fees": row.fees or {},
        "exchange_order_id": row.exchange_order_id,
        "strategy_id": row.strategy_id,
        "shares": row.shares,
        "parent_id": row.parent_id,
        "reason": row.reason,
        "placed_ts": row.placed_ts,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def bracket_children(request: OrderRequest) -> list[dict[str, Any]]:
    """The exit orders a bracketed buy arms when it fills (one-cancels-other): a stop at the higher of
    the fixed stop-loss and the trailing level, and a take-profit limit, at levels from the reference
    price until the paper broker arms them at levels from the entry's fill (``matching``)."""
    reference = request.reference_price
    assert reference is not None
    children: list[dict[str, Any]] = []
    stop = reference * (1 - request.stop_loss) if request.stop_loss is not None else None
    role = "stop_loss"
    if request.trailing_stop is not None:
        level = reference * (1 - request.trailing_stop)
        if stop is None or level > stop:
            stop, role = level, "trailing_stop"
    if stop is not None:
        children.append(
            {
                "type": OrderType.STOP.value,
                "role": role,
                "stop_price": stop,
                "trail": request.trailing_stop,
                "trail_peak": reference if request.trailing_stop is not None else None,
            }
        )
    if request.take_profit is not None:
        children.append(
            {
                "type": OrderType.LIMIT.value,
                "role": "take_profit",
                "price": reference * (1 + request.take_profit),
            }
        )
    return children


class Journal:
    """Reads and writes the trading tables (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # --- books ----------------------------------------------------------------------------------

    async def ensure_book(
        self,
        book: str,
        *,
        mode: str,
        quote: str,
        starting_cash: float | None = None,
        strategy_id: str | None = None,
        ts: int = 0,
    ) -> bool:
        """Create the book (with its starting cash as a ledger entry) unless it exists; True if created."""
        async with self.db.sessions() as session:
            if await session.get(TradingBook, book) is not None:
                return False
            session.add(TradingBook(id=book, mode=mode, quote=quote, strategy_id=strategy_id))
            await session.flush()
            if starting_cash:
                session.add(
                    LedgerEntry(book=book, asset=quote, amount=starting_cash, reason="starting cash", ts=ts)
                )
            await session.commit()
            return True

    async def book(self, book: str) -> TradingBook:
        async with self.db.sessions() as session:
            found = await session.get(TradingBook, book)
        if found is None:
            raise NotFound(f"no book {book!r}")
        return found

    async def books(self) -> list[TradingBook]:
        async with self.db.sessions() as session:
            return list((await session.exec(select(TradingBook).order_by(col(TradingBook.id)))).all())

    async def add_ledger_entry(self, book: str, asset: str, amount: float, reason: str, ts: int) -> None:
        async with self.db.sessions() as session:
            session.add(LedgerEntry(book=book, asset=asset, amount=amount, reason=reason, ts=ts))
            await session.commit()

    # --- orders ---------------------------------------------------------------------------------

    async def create_order(
        self,
        book: str,
        mode: str,
        request: OrderRequest,
        *,
        placed_ts: int,
        parent_id: int | None = None,
        oco: str | None = None,
        reason: str | None = None,
    ) -> tuple[OrderRecord, list[OrderRecord]]:
        """Journal an order as an intent, with its bracket exits (intents waiting for it to fill),
        committed before the caller sends anything; ``oco`` links an exit to the take-profit the
        daemon keeps for it (``exit_cancels``); ``reason`` says what the intent is part of (a sell by
        hand that replaces its position's exits first: ``live_bracket_sell``). Returns the order and
        its exits."""
        now = utcnow()
        row = intent_row(book, mode, request, placed_ts=placed_ts, now=now, parent_id=parent_id)
        row.oco = oco
        row.reason = reason
        children: list[OrderRecord] = []
        async with self.db.sessions() as session:
            session.add(row)
            await session.flush()
            assert row.id is not None
            if request.has_bracket:
                oco = f"oco-{row.id}"
                for child in bracket_children(request):
                    children.append(
                        OrderRecord(
                            client_order_id=new_client_order_id(),
                            book=book,
                            mode=mode,
                            symbol=request.symbol,
                            side="sell",
                            parent_id=row.id,
                            oco=oco,
                            state=OrderState.INTENT,
                            strategy_id=request.strategy_id,
                            placed_ts=placed_ts,
                            created_at=now,
                            updated_at=now,
                            **child,
                        )
                    )
                session.add_all(children)
            await session.commit()
        return row, children

    async def create_oco(
        self,
        book: str,
        mode: str,
        legs: tuple[OrderRequest, OrderRequest],
        *,
        placed_ts: int,
        parent_id: int | None = None,
    ) -> tuple[OrderRecord, OrderRecord]:
        """Journal the two legs of a one-cancels-other pair (a stop and a take-profit of one position)
        as intents sharing an ``oco`` key, in one transaction: a crash leaves both or neither. A pair
        that re-protects a bracketed entry's rest names that entry as ``parent_id``."""
        now = utcnow()
        rows = [
            intent_row(book, mode, request, placed_ts=placed_ts, now=now, parent_id=parent_id)
            for request in legs
        ]
        async with self.db.sessions() as session:
            session.add(rows[0])
            await session.flush()
            for row in rows:
                row.oco = f"oco-{rows[0].id}"
            session.add_all(rows)
            await session.commit()
            for row in rows:
                await session.refresh(row)
        return rows[0], rows[1]

    async def sell_replacing(
        self,
        book: str,
        mode: str,
        request: OrderRequest,
        *,
        placed_ts: int,
        exits: Sequence[OrderRecord],
        keep: float,
        reason: Callable[[int, list[int], bool], str],
    ) -> tuple[OrderRecord, list[OrderRecord]]:
        """A paper sell by hand that replaces its position's bracket exits, in one transaction (a crash
        leaves all of it or none): the sell accepted (open), ``exits`` cancelled with ``reason(sell id,
        new ids, whether the exit is of the set resized)``, and copies of the first set of them
        (``bracket_sell.Plan``) at its levels for ``keep`` (none when 0), working at once. Returns the
        sell and the new exits (``bracket_sell``)."""
        now = utcnow()
        sell = intent_row(book, mode, request, placed_ts=placed_ts, now=now)
        async with self.db.sessions() as session:
            session.add(sell)
            await session.flush()
            assert sell.id is not None
            self._move(sell, OrderState.OPEN, None)
            sell.sent_at = now
            old = [await self._locked(session, row.id) for row in exits if row.id is not None]
            resized = [row for row in old if set_key(row) == set_key(old[0])]
            new = [_exit_copy(row, keep, now) for row in resized] if keep > 0 else []
            if new:
                session.add(new[0])
                await session.flush()
                for row in new:
                    row.oco = f"oco-{new[0].id}" if len(new) > 1 else None
                session.add_all(new)
                await session.flush()
            ids = [row.id for row in new if row.id is not None]
            for row in old:
                self._move(row, OrderState.CANCELLED, reason(sell.id, ids, row in resized))
                session.add(row)
            session.add(sell)
            await session.commit()
            for row in [sell, *old, *new]:
                await session.refresh(row)
        return sell, new

    async def put_back_exits(
        self,
        replaced: Sequence[OrderRecord],
        sets: Sequence[tuple[Sequence[OrderRecord], Sequence[OrderRecord], float]],
        *,
        reason: Callable[[Sequence[OrderRecord]], str],
        replaced_reason: str,
        placed_reason: str,
    ) -> tuple[list[OrderRecord], list[OrderRecord]]:
        """The paper exits a sell by hand replaced, put back once it ended without selling
        (``paper_put_back``), in one transaction (a crash leaves all of it or none): ``replaced`` (the
        exits placed for what it left, still working) cancelled with ``replaced_reason``; for each of
        ``sets`` (its old exits, cancelled; the rows whose levels the new ones take; their amount, 0 for
        none) copies working at once (``placed_reason``), one one-cancels-other group, and the old exits'
        reason ``reason(the copies)``, which says so (a start finds none left to put back). Returns the
        exits cancelled and the new ones."""
        now = utcnow()
        async with self.db.sessions() as session:
            gone = [await self._locked(session, row.id) for row in replaced if row.id is not None]
            for row in gone:
                self._move(row, OrderState.CANCELLED, replaced_reason)
                session.add(row)
            told: list[OrderRecord] = []
            new_rows: list[OrderRecord] = []
            for old, levels, amount in sets:
                new = [_exit_copy(row, amount, now) for row in levels] if amount > 0 else []
                if new:
                    session.add(new[0])
                    await session.flush()
                    for row in new:
                        row.oco = f"oco-{new[0].id}" if len(new) > 1 else None
                        row.reason = placed_reason
                    session.add_all(new)
                    await session.flush()
                said = reason(new)
                for row in [await self._locked(session, row.id) for row in old if row.id is not None]:
                    row.reason = said
                    row.updated_at = now
                    session.add(row)
                    told.append(row)
                new_rows += new
            await session.commit()
            for row in [*gone, *told, *new_rows]:
                await session.refresh(row)
        return gone, new_rows

    async def transition(
        self,
        order_id: int,
        state: OrderState,
        *,
        reason: str | None = None,
        exchange_order_id: str | None = None,
        sent: bool = False,
    ) -> OrderRecord:
        """Move an order to ``state`` (checked against the state machine) and commit."""
        async with self.db.sessions() as session:
            row = await self._locked(session, order_id)
            self._move(row, state, reason)
            if exchange_order_id is not None:
                row.exchange_order_id = exchange_order_id
            if sent:
                row.sent_at = utcnow()
            session.add(row)
            await session.commit()
            await session.refresh(row)
            return row

    async def size_intent(
        self, order_id: int, amount: float, *, price: float | None = None, stop_price: float | None = None
    ) -> OrderRecord:
        """Fix the amount (and limit price) of an order still an intent: a bracket exit, armed for what
        its entry filled."""
        async with self.db.sessions() as session:
            row = await self._locked(session, order_id)
            if row.state is not OrderState.INTENT:
                raise IllegalTransition(f"order {order_id} is {row.state}: only an intent can be resized")
            row.amount = amount
            if price is not None:
                row.price = price
            if stop_price is not None:
                row.stop_price = stop_price
            row.updated_at = utcnow()
            session.add(row)
            await session.commit()
            await session.refresh(row)
            return row

    async def mark_attempt(self, order_id: int, *, at: datetime | None = None) -> None:
        """Record that a request for the order is leaving now (``sent_at`` is the newest attempt, so a
        resend after a rate limit or a clock re-sync moves the "could it still arrive?" deadline);
        ``at``: now by the caller's clock (the one its deadlines are measured on)."""
        async with self.db.sessions() as session:
            row = await self._locked(session, order_id)
            row.sent_at = at or utcnow()
            session.add(row)
            await session.commit()

    @staticmethod
    async def _locked(session: AsyncSession, order_id: int) -> OrderRecord:
        query = select(OrderRecord).where(col(OrderRecord.id) == order_id).with_for_update()
        row = (await session.exec(query)).first()
        if row is None:
            raise NotFound(f"no order {order_id}")
        return row

    @staticmethod
    def _move(row: OrderRecord, state: OrderState, reason: str | None) -> None:
        current = row.state
        if current is OrderState.INTENT and state not in (
            OrderState.SENT,
            OrderState.CANCELLED,
            OrderState.REJECTED,
        ):
            # A paper order (or an armed bracket exit) is accepted on the spot: intent, sent, then state.
            check_transition(current, OrderState.SENT)
            row.sent_at = row.sent_at or utcnow()
            current = OrderState.SENT
        check_transition(current, state)
        row.state = state
        if reason is not None:
            row.reason = reason
        row.updated_at = utcnow()

    async def add_fills(
        self,
        order_id: int,
        fills: Sequence[NewFill],
        state: OrderState,
        *,
        reason: str | None = None,
        exchange_order_id: str | None = None,
    ) -> tuple[OrderRecord, list[FillRecord]]:
        """Record an order's fills (those not stored yet) and its new state, in one transaction.
        Returns the order and the fills that were new."""
        async with self.db.sessions() as session:
            row = await self._locked(session, order_id)
            new = await self._insert_fills(session, row, fills)
            current = row.state
            if current is not state:
                try:
                    self._move(row, state, reason)
                except IllegalTransition:
                    if is_correction(current, state):
                        log.warning(
                            "order %s was %s but the exchange has it %s: corrected",
                            row.client_order_id,
                            current.value,
                            state.value,
                        )
                        row.state = state
                        row.reason = f"corrected by the exchange (was {current.value}: {row.reason})"
                    else:  # an older view than ours (e.g. open after filled): keep ours, book the fills
                        log.info(
                            "order %s: kept %s over the exchange's older %s",
                            row.client_order_id,
                            current.value,
                            state.value,
                        )
            elif reason is not None:
                row.reason = reason
            if exchange_order_id is not None:
                row.exchange_order_id = exchange_order_id
            row.updated_at = utcnow()
            session.add(row)
            await session.commit()
            await session.refresh(row)
            return row, new

    async def _insert_fills(
        self, session: AsyncSession, row: OrderRecord, fills: Sequence[NewFill]
    ) -> list[FillRecord]:
        assert row.id is not None
        known = {
            fill.trade_id: fill
            for fill in (
                await session.exec(select(FillRecord).where(col(FillRecord.order_id) == row.id))
            ).all()
        }
        new: list[FillRecord] = []
        base, quote = split_symbol(row.symbol)
        for fill in fills:
            if fill.trade_id in known:
                continue
            fee_quote = fill.fee_quote
            if fee_quote is None:
                charged = {fill.fee_asset: fill.fee, **(fill.more_fees or {})}
                fee_quote = fee_value(charged, base=base, quote=quote, price=fill.price, prices={})
            record = FillRecord(
                order_id=row.id,
                book=row.book,
                symbol=row.symbol,
                side=row.side,
                amount=fill.amount,
                price=fill.price,
                fee=fill.fee,
                fee_asset=fill.fee_asset,
                fee_quote=fee_quote,
                more_fees=fill.more_fees or None,
                trade_id=fill.trade_id,
                ts=fill.ts,
                minimum=fill.minimum,
            )
            session.add(record)
            known[fill.trade_id] = record
            new.append(record)
        if new:
            await session.flush()
            everything = sorted(known.values(), key=lambda item: item.id or 0)
            row.filled = math.fsum(item.amount for item in everything)
            row.cost = math.fsum(item.amount * item.price for item in everything)
            row.fees, row.fee = order_fees(everything)
        return new

    async def apply_match(
        self, book: str, symbol: str, result: MatchResult
    ) -> tuple[list[OrderRecord], list[FillRecord]]:
        """Journal one paper match (its fills and every order it changed) in one transaction."""
        _, quote = split_symbol(symbol)
        changed: list[OrderRecord] = []
        new_fills: list[FillRecord] = []
        async with self.db.sessions() as session:
            rows: dict[int, OrderRecord] = {}
            for order_id in sorted({*result.changed, *(fill.order_id for fill in result.fills)}):
                rows[order_id] = await self._locked(session, order_id)
            # Fills go in the order matching made them, so the journal replays to the same book.
            numbers: dict[int, int] = {}
            for fill in result.fills:
                row = rows[fill.order_id]
                if fill.order_id not in numbers:
                    existing = await session.exec(
                        select(FillRecord.id).where(col(FillRecord.order_id) == fill.order_id)
                    )
                    numbers[fill.order_id] = len(existing.all())
                numbers[fill.order_id] += 1
                trade_id = f"paper-{row.id}-{numbers[fill.order_id]}"
                new_fills += await self._insert_fills(
                    session, row, [NewFill(trade_id, fill.amount, fill.price, fill.fee, quote, fill.ts)]
                )
            for order_id, order in result.changed.items():
                row = rows[order_id]
                target = order.state
                if row.state is not target:
                    self._move(row, target, result.reasons.get(order_id))
                elif order_id in result.reasons:
                    row.reason = result.reasons[order_id]
                row.amount = order.amount
                row.price = order.price
                row.stop_price = order.stop_price
                row.trail_peak = order.trail_peak
                row.role = order.role
                row.updated_at = utcnow()
                session.add(row)
                changed.append(row)
            await session.commit()
            for row in changed:
                await session.refresh(row)
        return changed, new_fills

    async def get(self, order_id: int | None = None, *, client_order_id: str | None = None) -> OrderRecord:
        query = select(OrderRecord)
        if order_id is not None:
            query = query.where(col(OrderRecord.id) == order_id)
        else:
            query = query.where(col(OrderRecord.client_order_id) == client_order_id)
        async with self.db.sessions() as session:
            row = (await session.exec(query)).first()
        if row is None:
            raise NotFound(f"no order {order_id if order_id is not None else client_order_id!r}")
        return row

    async def orders(
        self,
        *,
        book: str | None = None,
        states: Iterable[OrderState] | None = None,
        symbol: str | None = None,
        limit: int | None = None,
        reason: str | None = None,
        reason_prefix: str | None = None,
    ) -> list[OrderRecord]:
        """Orders, newest first (all books unless one is named; with exactly ``reason`` if given, with a
        reason starting with ``reason_prefix`` if given)."""
        query = select(OrderRecord).order_by(col(OrderRecord.id).desc())
        if reason is not None:
            query = query.where(col(OrderRecord.reason) == reason)
        if reason_prefix is not None:
            query = query.where(col(OrderRecord.reason).startswith(reason_prefix, autoescape=True))
        if book is not None:
            query = query.where(col(OrderRecord.book) == book)
        if states is not None:
            query = query.where(col(OrderRecord.state).in_([state.value for state in states]))
        if symbol is not None:
            query = query.where(col(OrderRecord.symbol) == symbol)
        if limit is not None:
            query = query.limit(limit)
        async with self.db.sessions() as session:
            return list((await session.exec(query)).all())

    async def in_flight(self, book: str) -> list[OrderRecord]:
        """Orders that may still be at the exchange or on their way (sent, unknown, open, partial)."""
        return list(reversed(await self.orders(book=book, states=IN_FLIGHT)))

    async def fills(self, *, book: str | None = None, order_id: int | None = None) -> list[FillRecord]:
        """Fills in the order they were recorded."""
        query = select(FillRecord).order_by(col(FillRecord.id))
        if book is not None:
            query = query.where(col(FillRecord.book) == book)
        if order_id is not None:
            query = query.where(col(FillRecord.order_id) == order_id)
        async with self.db.sessions() as session:
            return list((await session.exec(query)).all())

    async def fills_since(
        self, book: str, since: datetime, *, limit: int
    ) -> list[tuple[FillRecord, str, str | None]]:
        """The newest ``limit`` fills of ``book`` recorded at or after ``since`` (wall clock), in the
        order they were recorded, each with its order's role and strategy."""
        query = (
            select(FillRecord, OrderRecord.role, OrderRecord.strategy_id)
            .join(OrderRecord, col(OrderRecord.id) == col(FillRecord.order_id))
            .where(col(FillRecord.book) == book, col(FillRecord.created_at) >= since)
            .order_by(col(FillRecord.id).desc())
            .limit(limit)
        )
        async with self.db.sessions() as session:
            rows = (await session.exec(query)).all()
        return [(fill, role, strategy_id) for fill, role, strategy_id in reversed(rows)]

    async def ledger_entries(self, book: str) -> list[LedgerEntry]:
        query = select(LedgerEntry).where(col(LedgerEntry.book) == book).order_by(col(LedgerEntry.id))
        async with self.db.sessions() as session:
            return list((await session.exec(query)).all())

    async def ledger(self, book: str) -> Ledger:
        """The book's balances and positions: its ledger entries and fills, replayed in order."""
        entries = await self.ledger_entries(book)
        fills = await self.fills(book=book)
        roles = await self._roles(book)
        return Ledger.replay(
            ((entry.asset, entry.amount) for entry in entries),
            (Fill.of(fill, roles.get(fill.order_id, "order")) for fill in fills),
        )

    async def strategy_ledger(self, book: str, strategy_id: str) -> Ledger:
        """One strategy's share of a shared book (``strategy_ledgers``); empty when it has none."""
        return (await self.strategy_ledgers(book)).get(strategy_id) or Ledger()

    async def strategy_ledgers(self, book: str) -> dict[str, Ledger]:
        """The strategies' shares of a shared book, each the fills of its own orders replayed on their own
        (its positions and round trips, without the book's cash), with its parts of the fills of sells by
        hand that sold its coins beside other owners' (``order_shares``): each fill shared out in the
        order of the sell's shares, each part with its share of the fill's fees, and never more than the
        strategy holds then (the rest is the account's own: a strategy never holds less than nothing)."""
        orders = {row.id: row for row in await self.orders(book=book) if row.id is not None}
        ledgers: dict[str, Ledger] = {}
        shared: dict[int, float] = {}  # order id -> what of it filled before the fill being shared out
        for fill in await self.fills(book=book):
            row = orders.get(fill.order_id)
            if row is None:
                continue
            if row.strategy_id is not None:
                ledgers.setdefault(row.strategy_id, Ledger()).apply(Fill.of(fill, row.role))
                continue
            shares = order_shares.of_json(row.shares)
            if not shares:
                continue
            before = shared.get(fill.order_id, 0.0)
            shared[fill.order_id] = before + fill.amount
            whole = Fill.of(fill, row.role)
            for owner, part in order_shares.parts(shares, before, fill.amount):
                ledger = ledgers.get(owner) if owner is not None else None
                if ledger is None:
                    continue  # the account's own (or an owner without a position: nothing of its to sell)
                position = ledger.positions.get(fill.symbol)
                held = position.amount if position is not None and position.opened_ts is not None else 0.0
                part = min(part, max(held, 0.0))
                if part > 0:
                    ledger.apply(whole.part(part))
        return ledgers

    async def _roles(self, book: str) -> dict[int, str]:
        query = select(OrderRecord.id, OrderRecord.role).where(col(OrderRecord.book) == book)
        async with self.db.sessions() as session:
            return {int(order_id): role for order_id, role in (await session.exec(query)).all() if order_id}

    # --- equity history -------------------------------------------------------------------------

    async def record_equity(
        self, book: str, ts: int, equity: float, cash: float, positions_value: float
    ) -> None:
        """The book's equity at market time ``ts`` (a later value for the same time replaces it).

        One upsert statement on the primary key (book, ts), without ORM objects: the daemon marks the
        account at every closed candle of every symbol."""
        table = EquityPointRecord.__table__  # type: ignore[attr-defined]
        async with self.db.engine.begin() as conn:
            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            statement = insert(table).values(
                book=book, ts=ts, equity=equity, cash=cash, positions_value=positions_value
            )
            excluded = statement.excluded
            await conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["book", "ts"],
                    set_={
                        "equity": excluded.equity,
                        "cash": excluded.cash,
                        "positions_value": excluded.positions_value,
                    },
                )
            )

    async def equity_marks(
        self, book: str, *, since: int | None, day_start: int
    ) -> tuple[float | None, float | None]:
        """The equity peak since market time ``since`` (all time when None) and the equity at the start
        of the day ``day_start`` (the last point before it, else the first after it)."""
        from sqlalchemy import func

        table = EquityPointRecord
        async with self.db.sessions() as session:
            peak_query = select(func.max(table.equity)).where(col(table.book) == book)
            if since is not None:
                peak_query = peak_query.where(col(table.ts) >= since)
            peak = (await session.exec(peak_query)).first()
            before = (
                await session.exec(
                    select(table.equity)
                    .where(col(table.book) == book, col(table.ts) < day_start)
                    .order_by(col(table.ts).desc())
                    .limit(1)
                )
            ).first()
            if before is None:
                before = (
                    await session.exec(
                        select(table.equity).where(col(table.book) == book).order_by(col(table.ts)).limit(1)
                    )
                ).first()
        return (float(peak) if peak is not None else None, float(before) if before is not None else None)

    async def last_equity_ts(self, book: str) -> int | None:
        table = EquityPointRecord
        query = select(table.ts).where(col(table.book) == book).order_by(col(table.ts).desc()).limit(1)
        async with self.db.sessions() as session:
            found = (await session.exec(query)).first()
        return int(found) if found is not None else None

    async def equity_history(self, book: str, *, since: int | None = None) -> list[EquityPoint]:
        query = (
            select(EquityPointRecord)
            .where(col(EquityPointRecord.book) == book)
            .order_by(col(EquityPointRecord.ts))
        )
        if since is not None:
            query = query.where(col(EquityPointRecord.ts) >= since)
        async with self.db.sessions() as session:
            rows = (await session.exec(query)).all()
        return [EquityPoint(from_ms(row.ts), row.equity) for row in rows]


def _exit_copy(row: OrderRecord, amount: float, now: datetime) -> OrderRecord:
    """A working bracket exit like ``row`` (its levels, its trailing peak) for ``amount``."""
    return OrderRecord(
        client_order_id=new_client_order_id(),
        book=row.book,
        mode=row.mode,
        symbol=row.symbol,
        side=row.side,
        type=row.type,
        role=row.role,
        amount=amount,
        price=row.price,
        stop_price=row.stop_price,
        trail=row.trail,
        trail_peak=row.trail_peak,
        parent_id=row.parent_id,
        state=OrderState.OPEN,
        strategy_id=row.strategy_id,
        placed_ts=row.placed_ts,
        created_at=now,
        updated_at=now,
        sent_at=now,
    )


def intent_row(
    book: str,
    mode: str,
    request: OrderRequest,
    *,
    placed_ts: int,
    now: datetime,
    parent_id: int | None = None,
) -> OrderRecord:
    """The journal row of an order about to be sent: every field of the request, state ``intent``."""
    return OrderRecord(
        client_order_id=request.client_order_id or new_client_order_id(),
        book=book,
        mode=mode,
        symbol=request.symbol,
        side=request.side.value,
        type=request.type.value,
        role=request.role,
        amount=request.amount,
        equity_fraction=request.equity_fraction,
        price=request.price,
        stop_price=request.stop_price,
        stop_loss=request.stop_loss,
        take_profit=request.take_profit,
        trailing_stop=request.trailing_stop,
        reference_price=request.reference_price,
        parent_id=parent_id,
        state=OrderState.INTENT,
        strategy_id=request.strategy_id,
        shares=order_shares.as_json(request.shares),
        placed_ts=placed_ts,
        created_at=now,
        updated_at=now,
    )
