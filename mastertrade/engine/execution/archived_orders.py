"""A lone order that rested at the exchange and that the exchange no longer shows by its client order id.

An exchange forgets orders that ended without trading (Binance archives a cancelled or expired order with
no fills; a venue whose client id lookup sees recent orders only does the same): asked by its client
order id, such an order answers "order does not exist". The journal has it resting (``open``, or partly
filled: the exchange had shown it, and gave it an order id), so it is no order that "never reached the
exchange". Before, it was looked up silently at every poll, forever: a protective stop the trader
cancelled on the exchange's website, then archived, left its position without a stop, and nobody was
told. (A leg of an OCO list is asked through its list instead: ``lost_legs``, ``archived_legs``.)

Once its arrival window is over, what became of it is asked by the order id the exchange gave it, in this
order:

1. **the order by that id**: found, it takes the exchange's state and fills (``live._take``); a stop
   someone else cancelled is then an exit cancelled at the exchange (``exit_cancels``), placed again
   under a new client order id once its cancel is confirmed the same way, and said once;
2. **its trades by that id**: traded in full, it is booked filled; trades the journal has not booked yet
   are booked whatever else is known (a fill is never dropped).

When neither tells (Binance forgets an archived order by its id too, and it has no trades), nothing is
concluded and nothing is placed on a guess. The order keeps its state, is marked (its reason starts with
``UNSEEN``) and said once: an error in the daemon log and, for an exit, a critical alert
(``RiskBreached``, limit ``exit_unsettled``), and ``mt positions`` shows its position's protection as
unclear (``unprotected``). Polls keep asking, quietly, after growing intervals (``unclear_lookups``:
from 30 s up to every half hour, at once when the price reaches its level; before, three requests at
every poll); each start notes it again, quietly.

Whichever way such a mark was made (here, or an OCO leg's by ``lost_legs``), it goes when the order turns
up or is settled (``unmark``): before, a leg that turned up kept its note in memory until the next start,
and ``mt positions`` kept saying its position's protection was unclear.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from mastertrade import errors
from mastertrade.db.models.trading import OrderRecord
from mastertrade.engine.execution import archived_legs, exit_cancels, lost_legs, unclear_lookups
from mastertrade.engine.orders import OrderState

log = logging.getLogger(__name__)

UNSEEN = (
    "not shown by the exchange any more, by its client order id nor by its order id, and its trades do not "
    "tell"
)
"""The start of the reason of an order marked so (see the module docstring)."""
FOUND = "shown by the exchange again after it could not tell what became of it"
"""The reason of a marked order found again, resting (its mark's reason would say it is not found)."""
FILL_TOLERANCE = 1e-9


def was_marked(row: OrderRecord) -> bool:
    """Whether ``row`` carries a mark of this module's or ``lost_legs``' (whatever its state)."""
    return (row.reason or "").startswith((UNSEEN, lost_legs.UNSETTLED))


async def settle(broker: lost_legs.LiveBroker, row: OrderRecord) -> list[Any]:
    """Settle ``row``, a lone order the exchange had shown resting, not found by its client id after its
    arrival window (see the module docstring); its lock held. Returns the new fills."""
    assert row.id is not None and row.exchange_order_id is not None
    order_id = row.exchange_order_id
    try:
        found = await archived_legs.by_id(broker, row, order_id)
    except errors.MasterTradeError as exc:
        await broker._error(f"looking up {row.client_order_id} by its order id {order_id}: {exc}")
        return []
    if found is not None:
        fills = await broker._take(row, found)
        await unmark(broker, row.id)
        return fills
    trades = await broker._trades_page(row.symbol, order_id, {})
    if trades is None:
        return []  # the exchange would not list them (counted as an error): the next poll asks
    traded = math.fsum(fill.amount for fill in trades)
    if traded >= (row.amount or 0.0) - FILL_TOLERANCE:
        fills = await broker._sync(row, {"id": order_id, "status": "closed", "filled": traded})
        await unmark(broker, row.id)
        return fills
    if exit_cancels.cancel_asked(row) is not None:
        return []  # MasterTrade's cancel is on its way: not marked (its reason says the cancel is ours)
    fills = []
    if traded > row.filled + FILL_TOLERANCE:
        fills = await broker._sync(row, {"id": order_id, "status": "open", "filled": traded})
        row = await broker.journal.get(row.id)
    if (row.reason or "").startswith(UNSEEN):
        _note(broker, row, loud=False)  # marked already (by this run or an earlier one): said once
    else:
        await _mark(broker, row)
    return fills


async def _mark(broker: lost_legs.LiveBroker, row: OrderRecord) -> None:
    """Mark the order nothing settles (``UNSEEN``), and say it once."""
    assert row.id is not None
    reason = f"{UNSEEN} (order id {row.exchange_order_id}): {unclear_lookups.AGAIN}; check it on the exchange"
    row, _ = await broker.journal.add_fills(row.id, [], OrderState(row.state), reason=reason)
    log.error("%s of %s: %s", exit_cancels.describe(row), row.symbol, reason)
    _note(broker, row, loud=True)


def _note(broker: lost_legs.LiveBroker, row: OrderRecord, *, loud: bool) -> None:
    """An exit's position shown with its protection unclear (``lost_legs.note``); other orders protect
    nothing: the journal's reason and the log say it."""
    if exit_cancels.is_exit(row):
        lost_legs.note(broker, row, loud=loud)


async def unmark(broker: lost_legs.LiveBroker, order_id: int) -> None:
    """Order ``order_id`` was found at the exchange, or settled: its position's protection is known again
    (the note goes from ``mt positions``), and a mark still in its reason is replaced (``FOUND``)."""
    broker.unprotected_parts.clear_leg(order_id)
    row = await broker.journal.get(order_id)
    if was_marked(row):
        await broker.journal.add_fills(order_id, [], OrderState(row.state), reason=FOUND)
        log.info("%s of %s: %s", exit_cancels.describe(row), row.symbol, FOUND)
