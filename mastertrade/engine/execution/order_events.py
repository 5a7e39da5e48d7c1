"""The bus events of a journaled order, built in one place so the paper and live brokers announce the
same order the same way."""

from __future__ import annotations

from mastertrade.db.models.trading import OrderRecord
from mastertrade.engine import events


def placed(row: OrderRecord, mode: str) -> events.OrderPlaced:
    """The order is working (at the venue, or in the paper book); ``price`` is its limit or stop."""
    return events.OrderPlaced(
        order_id=str(row.id),
        client_order_id=row.client_order_id,
        symbol=row.symbol,
        side=row.side,
        order_type=row.type,
        amount=row.amount or 0.0,
        price=row.price or row.stop_price,
        strategy_id=row.strategy_id,
        mode=mode,
        book=row.book,
        equity_fraction=row.equity_fraction,
    )


def rejected(row: OrderRecord, reason: str, mode: str) -> events.OrderRejected:
    """The venue (or the paper book) refused the order."""
    return events.OrderRejected(
        client_order_id=row.client_order_id,
        symbol=row.symbol,
        side=row.side,
        amount=row.amount or 0.0,
        reason=reason,
        mode=mode,
        book=row.book,
        equity_fraction=row.equity_fraction,
    )


def cancelled(row: OrderRecord, reason: str, mode: str) -> events.OrderCancelled:
    return events.OrderCancelled(
        order_id=str(row.id),
        client_order_id=row.client_order_id,
        symbol=row.symbol,
        reason=reason,
        mode=mode,
        book=row.book,
    )
