"""What a cancel of an order that is no longer working says: its final state, as a trader reads it.

An order already filled, cancelled or rejected has nothing left to cancel. That is not bad input (the
id names a real order, and it may have been open a moment ago: the fill and the cancel crossed), so
both brokers answer with an ``OperationFailed`` (API 409 ``operation_failed``) whose message states the
order's end: what it filled at, or why it was cancelled or rejected. ``mt orders cancel`` then reads the
order back and says the same (exit 0 when the order will not trade, 1 when it filled).
"""

from __future__ import annotations

from mastertrade import errors
from mastertrade.db.models.trading import OrderRecord
from mastertrade.engine.orders import OrderState


def final_state(row: OrderRecord) -> str:
    """``filled (0.5 at 101.2)``, ``cancelled (kill switch: news; 0.2 of 0.5 filled at 99)``,
    ``rejected (insufficient funds ...)``: the state with what it did and why."""
    details = []
    if row.reason and row.state != OrderState.FILLED:
        details.append(row.reason)
    if row.filled > 0:
        price = row.cost / row.filled
        if row.state == OrderState.FILLED:
            details.append(f"{row.filled:.8g} at {price:,.8g}")
        else:
            of = f" of {row.amount:.8g}" if row.amount is not None else ""
            details.append(f"{row.filled:.8g}{of} filled at {price:,.8g}")
    return f"{row.state}" + (f" ({'; '.join(details)})" if details else "")


def nothing_to_cancel(row: OrderRecord) -> errors.OperationFailed:
    """The refusal of a cancel of an order in a final state, naming that state."""
    end = "too late to cancel" if row.state == OrderState.FILLED else "nothing to cancel"
    amount = f" {row.amount:.8g}" if row.amount is not None else ""
    what = f"{row.side}{amount} {row.symbol} {row.type}"
    return errors.OperationFailed(f"order {row.id} ({what}) is already {final_state(row)}: {end}")
