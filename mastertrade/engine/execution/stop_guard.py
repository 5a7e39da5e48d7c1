"""Whether cancelling an order would leave a position without its protective stop.

A bracket's stop-loss or trailing stop (a manual bracketed buy's, a strategy's in its paper book, a live
strategy's stop resting at the exchange) is what limits the loss of the position it guards. Cancelling
it by hand (``mt orders cancel``, ``POST /v1/orders/{id}/cancel``, the dashboard) would leave that
position open with nothing to sell it on the way down, so ``Account.cancel`` refuses it with
``StopProtectsPosition`` naming the position, unless the caller says it means it (``unprotect``). The
daemon's own cancels (replacing a stop, an exit signal, the entry's cancel) go to the broker directly and
are not refused.

A stop protects nothing, and cancels as before, while its entry has not filled yet (the bracket's exits
wait in ``intent`` for the fill: the position the book may hold meanwhile, from other orders, is not
theirs), or when its book holds none of its symbol (the position was sold another way); so does a
take-profit, whose cancel leaves the stop in place (a live one in one OCO list with the stop: the
exchange cancels both, and the stop is placed again alone, ``take_profit_only``).
"""

from __future__ import annotations

from mastertrade import errors
from mastertrade.db.models.trading import OrderRecord
from mastertrade.engine.execution.broker import Broker
from mastertrade.engine.execution.journal import Journal
from mastertrade.engine.orders import FINAL_STATES, OrderState

PROTECTIVE_ROLES = frozenset({"stop_loss", "trailing_stop"})
"""The roles of the orders that limit a position's loss."""

_ROLE_NAMES = {"stop_loss": "stop-loss", "trailing_stop": "trailing stop"}


async def protected_position(broker: Broker, journal: Journal, row: OrderRecord) -> str | None:
    """The position ``row`` protects, in words ("the 0.5 BTC/USDT position of book strategy:ab12"), or
    None when cancelling it leaves no position without its stop."""
    if row.role not in PROTECTIVE_ROLES or row.side != "sell" or OrderState(row.state) in FINAL_STATES:
        return None
    if row.parent_id is not None and OrderState(row.state) is OrderState.INTENT:
        parent = await journal.get(row.parent_id)
        if not parent.filled > 0:
            return None  # armed only when its entry fills: no position is its yet
    held = (await broker.ledger()).held(row.symbol)
    if not held > 0:
        return None
    whose = f"strategy {row.strategy_id}" if row.strategy_id else "the account"
    entry = f", entry order {row.parent_id}" if row.parent_id is not None else ""
    return f"the {held:.8g} {row.symbol} position of {whose} (book {row.book}{entry})"


def refusal(row: OrderRecord, position: str) -> errors.StopProtectsPosition:
    role = _ROLE_NAMES.get(row.role, row.role)
    return errors.StopProtectsPosition(
        f"order {row.id} is the {role} protecting {position}: cancelling it leaves that position without "
        f"a stop; sell the position instead, or cancel with unprotect (mt orders cancel {row.id} "
        "--unprotect)"
    )
