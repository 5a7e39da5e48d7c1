"""An OCO list's leg the exchange does not show while it shows the other: settled as the exchange says.

An exchange books both legs of an order list at once (Binance creates a list atomically). So when a
list's create proved nothing (its answer lost, or answered as rate-limited) and, once the window its
request could arrive in is over, one leg is found by its client order id and the other is not, the
missing leg reached the exchange too: declaring it "never reached the exchange", as a lone order not found
then is, would be false, and looking it up by client id at every poll never ends (an exchange archives an
order that ended unfilled, such as the leg it expired at its sibling's fill). What became of it is asked,
in this order:

1. **the order list** (``GET /api/v3/orderList`` by the list's client id, ``live_oco.list_client_id``),
   which names each leg's order id: the leg is looked up by that id, and found, it takes the exchange's
   state and fills;
2. **its sibling's fills**: the exchange expires the other legs of a list at the first fill of one
   (partial or not), so a leg whose sibling traded never traded itself: it is cancelled (``EXPIRED``);
3. **the list's status**: done (``ALL_DONE``), the leg has ended, and its trades (asked by its order id)
   say whether it filled; it is booked filled, or cancelled the way its sibling was, once the journal has
   read how the sibling ended (its own look, later in the same poll or at the next).

The same holds for a leg that rested at the exchange and that it no longer shows, its list cancelled on
the exchange's website and the leg archived: settled cancelled the way its sibling was (someone else's
cancel), and placed again with it (``exit_cancels``, asking the list too: ``archived_legs``).

When none of these tells (the exchange no longer knows the list, or the list still executes and the leg
is not shown), the leg stays ``unknown`` and is looked up again at each poll for ``SETTLE_WITHIN_S`` after
its arrival window. Then it is marked (its reason starts with ``UNSETTLED``) and said once: an error in
the daemon log and a critical alert (``RiskBreached``, limit ``exit_unsettled``); polls no longer look it
up (each start does, once), ``mt orders`` shows it unknown with that reason, and ``mt positions`` shows
its position's protection as unclear (``unprotected``) until it is settled. A leg the exchange had
shown resting (the journal has it open) keeps that state, which cannot go back to unknown: it is marked
by its reason alone, said once, and polls keep looking it up, quietly, after growing intervals
(``unclear_lookups``). When a marked leg turns up, or is
settled, its note goes at once and its reason says so (``archived_orders.unmark``, from ``live``).
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from mastertrade import errors
from mastertrade.db.models.trading import OrderRecord
from mastertrade.engine.execution import archived_legs, exit_cancels, live_oco, unclear_lookups
from mastertrade.engine.execution.lost_answers import EXPIRED
from mastertrade.engine.orders import OrderState

if TYPE_CHECKING:
    from mastertrade.engine.execution.unprotected import Unprotected

log = logging.getLogger(__name__)

SETTLE_WITHIN_S = 600.0
"""How long after its arrival window a leg no lookup settles is looked up at every poll, before it is
marked ``UNSETTLED`` and said."""
UNSETTLED = "not found at the exchange, though its OCO list's other leg is, and its list does not tell"
"""The start of the reason of a leg marked so (``marked``)."""
LIMIT = "exit_unsettled"
"""The ``RiskBreached`` limit of the alert (``alerts.rules``)."""
FILL_TOLERANCE = 1e-9


class LiveBroker(archived_legs.Broker, Protocol):
    """What these functions use of ``live.LiveBroker`` besides what ``archived_legs`` does."""

    unprotected_parts: Unprotected

    async def _take(
        self, row: OrderRecord, order: dict[str, Any], *, cancel_reason: str | None = None
    ) -> list[Any]: ...


def marked(row: OrderRecord) -> bool:
    """A leg no lookup could settle, marked and said (polls no longer look it up)."""
    return row.state == OrderState.UNKNOWN and (row.reason or "").startswith(UNSETTLED)


async def settle(broker: LiveBroker, row: OrderRecord, since: datetime) -> list[Any] | None:
    """Settle ``row``, an OCO leg not found by its client id after its arrival window (``since``), its
    lock held; returns the new fills. None when its sibling is not at the exchange either (the list may
    never have arrived: a lone order's rules apply, ``live._resolve``)."""
    assert row.id is not None
    sibling = await archived_legs.sibling_of(broker, row)
    if sibling is None:
        return None
    if sibling.exchange_order_id is None:
        if OrderState(sibling.state) not in (OrderState.SENT, OrderState.UNKNOWN):
            return None  # it never reached the exchange (or never left): neither did this leg
        told, found = await _look_up_sibling(broker, sibling)
        if not told:
            return []  # its writer is at it, or the lookup failed: the next poll looks again
        if found is None:
            return None
        sibling = found
    try:
        listed = await archived_legs.order_list(broker, row, sibling)
        order_id = archived_legs.leg_id(listed, row)
        if order_id is not None:
            by_id = await archived_legs.by_id(broker, row, order_id)
            if by_id is not None:
                return await broker._take(row, by_id)
    except errors.MasterTradeError as exc:
        await broker._error(f"asking about OCO leg {row.client_order_id}: {exc}")
        return []
    if sibling.filled > 0:
        return await _ended(broker, row, order_id, "expired", EXPIRED.format(sibling=sibling.id))
    if listed is not None and order_id is not None and archived_legs.done(listed):
        if not OrderState(sibling.state).final and await _sibling_shown(broker, sibling):
            # How this leg ended follows from how its sibling did, which its own look reads (later in
            # this poll, or at the next). Taken as "expired" while the journal had the sibling resting,
            # the leg of a list cancelled on the exchange's website was never placed again, and the
            # sibling went back alone.
            return []
        trades = await broker._trades_page(row.symbol, order_id, {})
        if trades is None:
            return []  # the exchange would not list them (counted as an error): the next poll asks
        traded = math.fsum(fill.amount for fill in trades)
        if traded >= (row.amount or 0.0) - FILL_TOLERANCE:
            return await broker._sync(row, {"id": order_id, "status": "closed", "filled": traded})
        # Cancelled with its list ("canceled": whose cancel it was is its sibling's, ``exit_cancels``);
        # so is a list done whose sibling the exchange no longer shows either (it archives only orders
        # that ended without trading): nothing of it traded, nobody's fill expired it.
        ended = sibling.state == OrderState.CANCELLED or not OrderState(sibling.state).final
        return await broker._sync(
            row, {"id": order_id, "status": "canceled" if ended else "expired", "filled": traded}
        )
    if (row.reason or "").startswith(UNSETTLED):
        note(broker, row, loud=False)  # marked already: shown again, said once already
    elif broker.clock() >= since + timedelta(seconds=SETTLE_WITHIN_S):
        await _mark(broker, row, sibling, listed)
    return []


async def _look_up_sibling(broker: LiveBroker, sibling: OrderRecord) -> tuple[bool, OrderRecord | None]:
    """Whether this look can tell, and the sibling found at the exchange now (booked), or None when it is
    not there. It cannot tell while the sibling's writer is at it, or when the lookup failed."""
    assert sibling.id is not None
    lock = broker._lock(sibling.id)
    if lock.locked():
        return False, None
    async with lock:
        sibling = await broker.journal.get(sibling.id)
        if sibling.exchange_order_id is not None:
            return True, sibling
        try:
            found = await broker._lookup(sibling)
        except errors.MasterTradeError as exc:
            await broker._error(f"looking up {sibling.client_order_id}: {exc}")
            return False, None
        if found is None:
            return True, None
        broker._late += await broker._take(sibling, found)
        return True, await broker.journal.get(sibling.id)


async def _sibling_shown(broker: LiveBroker, sibling: OrderRecord) -> bool:
    """Whether the exchange shows ``sibling`` by its client id (or this look cannot tell: its writer is
    at it, or the lookup failed). Not booked here: its own look does, as its only writer."""
    assert sibling.id is not None
    lock = broker._lock(sibling.id)
    if lock.locked():
        return True
    async with lock:
        try:
            return await broker._lookup(sibling) is not None
        except errors.MasterTradeError as exc:
            await broker._error(f"looking up {sibling.client_order_id}: {exc}")
            return True


async def _ended(
    broker: LiveBroker, row: OrderRecord, order_id: str | None, status: str, reason: str
) -> list[Any]:
    """The leg ended without trading (``status`` as the exchange would say it), with ``reason``."""
    assert row.id is not None
    if order_id is not None:
        ended = {"id": order_id, "status": status, "filled": 0.0}
        return await broker._sync(row, ended, cancel_reason=reason)
    await broker.journal.add_fills(row.id, [], OrderState.CANCELLED, reason=reason)
    log.info("OCO leg %s of %s: %s", row.client_order_id, row.symbol, reason)
    return []


async def _mark(
    broker: LiveBroker, row: OrderRecord, sibling: OrderRecord, listed: dict[str, Any] | None
) -> None:
    """Mark the leg no lookup settles (``UNSETTLED``), and say it once."""
    assert row.id is not None
    stop, _ = live_oco.legs([row, sibling])
    listing = (
        "its list is still executing there"
        if listed is not None
        else f"the exchange does not know its list {live_oco.list_client_id(stop or row)}"
    )
    # A leg the exchange had shown resting stays so in the journal (its state cannot go back to unknown):
    # polls keep looking it up, quietly (after growing intervals: ``unclear_lookups``). Marked unknown
    # before, the mark did not hold, and the leg was marked and said again at every poll.
    rested = OrderState(row.state) in (OrderState.OPEN, OrderState.PARTIALLY_FILLED)
    looked_up = unclear_lookups.AGAIN if rested else "no longer looked up"
    reason = (
        f"{UNSETTLED} ({listing}; order {sibling.id} of the list is {sibling.state}): {looked_up}; check "
        "it on the exchange"
    )
    state = OrderState(row.state) if rested else OrderState.UNKNOWN
    row, _ = await broker.journal.add_fills(row.id, [], state, reason=reason)
    log.error("OCO leg %s of %s: %s", row.client_order_id, row.symbol, reason)
    note(broker, row, loud=True)


def note(broker: LiveBroker, row: OrderRecord, *, loud: bool) -> None:
    """Show a marked leg's position as unclear (``mt positions``); ``loud``: with the alert (when it is
    marked; a start notes it again quietly)."""
    assert row.id is not None
    message = (
        f"the protection of the {row.symbol} position is unclear: {exit_cancels.describe(row)} is "
        f"{row.reason}"
    )
    broker.unprotected_parts.mark_leg(
        row.id,
        row.symbol,
        message,
        broker._emit if loud else lambda _: None,
        limit=LIMIT,
        severity="critical",
        value=(row.amount or 0.0) - row.filled,
    )
