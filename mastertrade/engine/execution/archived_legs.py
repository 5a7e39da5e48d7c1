"""An OCO list's leg the exchange no longer shows by its client order id: asked through its list instead.

An exchange forgets orders that ended without trading (Binance archives a cancelled or expired order
with no fills; a venue whose order query sees recent orders only does the same): asked by its client
order id, such a leg answers "order does not exist", while the other leg of its list, or the list itself,
is still shown. Two steps need to know how such a leg ended:

- ``lost_legs`` settles a leg a poll no longer finds: from what its list says, never as "never reached
  the exchange";
- ``exit_cancels`` places exits cancelled at the exchange by someone else again only once the exchange
  has confirmed each of them ended: before, a leg it no longer showed was "not confirmed" at every poll,
  an error logged each time, and the position stayed without exits for good.

What the exchange is asked, in this order: the order list by its client id (``live_oco.list_client_id``,
derived from its stop leg's), which names each leg's order id and says whether any leg still works
(``ALL_DONE`` when none does); the leg by that order id; and the leg's trades by that order id. A leg has
ended when its list is done, the leg (if still shown by its id) has ended, and its trades add up to no
more than the journal has booked of it (none, for a leg cancelled untouched). Whatever else the exchange
answers (the list unknown too, or still executing), it does not tell: the caller keeps the leg as it is
and never acts on a guess.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Protocol

import ccxt.async_support as ccxt

from mastertrade.db.models.trading import OrderRecord
from mastertrade.engine.execution import live_oco

if TYPE_CHECKING:
    from mastertrade.engine.execution.journal import NewFill

ENDED = frozenset({"canceled", "cancelled", "expired"})
"""The exchange's (ccxt's) statuses of an order that ended without filling in full."""
FILL_TOLERANCE = 1e-9


class Broker(live_oco.LiveBroker, Protocol):
    """What these functions use of ``live.LiveBroker`` besides what ``live_oco`` does."""

    async def _trades_page(
        self, symbol: str, order_id: str, params: dict[str, Any]
    ) -> list[NewFill] | None: ...


async def order_list(
    broker: live_oco.LiveBroker, row: OrderRecord, sibling: OrderRecord
) -> dict[str, Any] | None:
    """The order list of legs ``row`` and ``sibling`` as the exchange shows it (asked by the list's
    client id, derived from its stop leg's), or None when it does not know it, or the venue has no such
    query. Raises ``MasterTradeError`` when the exchange could not be asked."""
    stop, _ = live_oco.legs([row, sibling])
    query = getattr(broker.exchange, "private_get_orderlist", None)
    if stop is None or not callable(query):
        return None
    list_id = live_oco.list_client_id(stop)
    try:
        found: dict[str, Any] = await broker.venue.call(
            lambda: query({"origClientOrderId": list_id}),
            what=f"{broker.venue.id} order list {list_id}",
            passthrough=(ccxt.OrderNotFound,),
        )
    except ccxt.OrderNotFound:
        return None
    return found


def leg_id(listed: dict[str, Any] | None, row: OrderRecord) -> str | None:
    """The exchange's order id of ``row`` among its list's orders."""
    for order in (listed or {}).get("orders") or []:
        if str(order.get("clientOrderId")) == row.client_order_id and order.get("orderId") is not None:
            return str(order["orderId"])
    return None


def done(listed: dict[str, Any]) -> bool:
    """Whether no leg of the list works at the exchange any more."""
    return "ALL_DONE" in (listed.get("listOrderStatus"), listed.get("listStatusType"))


async def by_id(broker: live_oco.LiveBroker, row: OrderRecord, order_id: str) -> dict[str, Any] | None:
    """The exchange's order ``order_id`` (the leg, by the id its list names), or None. Raises
    ``MasterTradeError`` when the exchange could not be asked."""
    try:
        found: dict[str, Any] = await broker.venue.call(
            lambda: broker.exchange.fetch_order(order_id, row.symbol),
            what=f"{broker.venue.id} fetch_order {order_id}",
            passthrough=(ccxt.OrderNotFound,),
        )
    except ccxt.OrderNotFound:
        return None
    return found


async def sibling_of(broker: live_oco.LiveBroker, row: OrderRecord) -> OrderRecord | None:
    """The other leg of ``row``'s list, as journaled (None when ``row`` is no leg of a pair)."""
    if row.oco is None:
        return None
    rows = await broker.journal.orders(book=broker.book, symbol=row.symbol)
    siblings = [other for other in rows if other.oco == row.oco and other.id != row.id]
    return siblings[0] if len(siblings) == 1 else None


async def ended(broker: Broker, row: OrderRecord) -> bool:
    """Whether the exchange, asked through ``row``'s order list and by the order id the list names, says
    the leg has ended, having traded no more than the journal has booked of it (see the module
    docstring): False when it does not tell, or when the trades could not be listed. A lone order, or a
    leg whose list the exchange no longer knows, is asked by the order id the journal has of it: it has
    ended only when the exchange shows it so (``archived_orders``). Raises ``MasterTradeError`` when the
    exchange could not be asked."""
    sibling = await sibling_of(broker, row)
    listed = await order_list(broker, row, sibling) if sibling is not None else None
    if listed is not None:
        order_id = leg_id(listed, row)
        if order_id is None or not done(listed):
            return False
        if row.exchange_order_id is not None and row.exchange_order_id != order_id:
            return False  # the list names another order than the one journaled: it does not tell
        found = await by_id(broker, row, order_id)
    else:
        if row.exchange_order_id is None:
            return False
        order_id = row.exchange_order_id
        found = await by_id(broker, row, order_id)
        if found is None:
            return False  # neither a list nor the order itself tells how it ended
    if found is not None:
        traded = float(found.get("filled") or 0.0)
        if str(found.get("status")) not in ENDED or traded > row.filled + FILL_TOLERANCE:
            return False
    trades = await broker._trades_page(row.symbol, order_id, {})
    return trades is not None and math.fsum(fill.amount for fill in trades) <= row.filled + FILL_TOLERANCE
