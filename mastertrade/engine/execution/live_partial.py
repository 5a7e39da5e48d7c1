"""The filled part of a bracketed live entry, protected at the exchange while the rest is still open.

A bracketed buy (``mt trade buy ... --stop-loss/--take-profit --live``) journals its exits as intents,
the *templates* (sharing the ``oco`` key ``oco-<entry id>``), which are sized and sent for the whole fill
once the entry ends (``LiveBroker._arm_exits``). A limit buy may rest for long partly filled: what it has
bought so far is protected meanwhile. Whenever the entry is found partly filled (its fill, and every
poll while it rests), what it brought in so far (less a fee taken from the coins, less what these exits
sold), in whole lot steps, gets exits of its own at the templates' levels (from the average fill): the
stop and the take-profit as one OCO list where the venue has them (``live_oco``), else the stop alone.

**Resizing** (a further fill) is journal, cancel, place, each step committed before the next:

1. the new exits are journaled as intents (``parent_id`` the entry, an ``oco`` key of their own);
2. the exits resting for the former amount are cancelled and each looked up until the exchange says it
   is done (one that sold meanwhile is booked, and the new intents are sized to what is left);
3. the new exits are marked sent and sent (a lost answer is resolved by their client ids).

A step that cannot finish (a cancel not yet answered) stops there; the next poll carries on from the
journal. New exits are never sent while an older one may still be working, so two pairs never sell the
same coins; a kill -9 between two steps leaves intents (sent once the old pair is seen gone, at the next
start) or exits marked sent (resolved by client id, never resent). The filled part is unprotected only
between the cancel and the new pair of one poll.

**When the entry ends** (filled, or its rest cancelled), these exits are cancelled the same way
(``retire``) and the templates sent for the whole fill: one pair for all the entry brought in.

**A part too small for the exchange** (under its minimum notional or amount) gets no exits yet: it is
said once (a warning and an alert) and the position shown unprotected (``unprotected.py``) until a
further fill makes the part big enough.
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from mastertrade import errors
from mastertrade.engine.execution import exit_cancels, live_oco
from mastertrade.engine.execution.unprotected import Unprotected, below_minimum
from mastertrade.engine.orders import IN_FLIGHT, OrderRequest, OrderState, OrderType, Side

if TYPE_CHECKING:
    from datetime import datetime

    from mastertrade.db.models.trading import OrderRecord

log = logging.getLogger(__name__)

REPLACED = "replaced by the exits of what its entry filled so far"
ENDED = "its entry ended: one pair for all it filled"
"""Why exits of a filled part are cancelled here (any other reason is a human's: see ``protect``)."""
RETRY_S = 60.0
"""After the exchange refused the exits of a filled part, the next attempt waits this long."""
AMOUNT_TOLERANCE = 1e-12


class LiveBroker(live_oco.LiveBroker, Protocol):
    """What these functions use of ``live.LiveBroker`` besides what ``live_oco`` does."""

    clock: Any
    unprotected_parts: Unprotected

    def _lots(self, symbol: str, amount: float) -> float | None: ...
    def _exit_levels(self, entry: OrderRecord, child: OrderRecord) -> tuple[float | None, float | None]: ...
    async def _received(self, entry: OrderRecord) -> float: ...


def is_template(row: OrderRecord) -> bool:
    """A bracket exit journaled with its entry (sent for the whole fill once the entry ends)."""
    return row.parent_id is not None and row.oco == f"oco-{row.parent_id}"


async def exits_of(broker: LiveBroker, entry: OrderRecord) -> tuple[list[OrderRecord], list[OrderRecord]]:
    """The entry's templates, and the exits of its filled parts (oldest first)."""
    rows = [
        row
        for row in reversed(await broker.journal.orders(book=broker.book, symbol=entry.symbol))
        if row.parent_id == entry.id
    ]
    return [row for row in rows if is_template(row)], [row for row in rows if not is_template(row)]


async def held(broker: LiveBroker, entry: OrderRecord, parts: list[OrderRecord]) -> float:
    """What the entry brought in that its parts' exits have not sold."""
    return max(0.0, await broker._received(entry) - math.fsum(row.filled for row in parts))


def _rest(row: OrderRecord) -> float:
    return (row.amount or 0.0) - row.filled


async def protect(broker: LiveBroker, entry: OrderRecord) -> None:
    """Exits for what the partly filled ``entry`` holds so far (see the module docstring). The caller
    holds the entry's lock (one writer of its exits)."""
    assert entry.id is not None
    templates, parts = await exits_of(broker, entry)
    if not templates or any(OrderState(row.state) is not OrderState.INTENT for row in templates):
        await broker.unprotected_parts.clear(entry.id)
        return
    if any(_cancelled_by_hand(row) for row in parts):
        return  # a human took these exits back: the entry's own are armed when it ends
    symbol = entry.symbol
    target = broker._lots(symbol, await held(broker, entry, parts)) or 0.0
    pending = [row for row in parts if OrderState(row.state) is OrderState.INTENT]
    working = [row for row in parts if OrderState(row.state) in IN_FLIGHT]
    if not pending:
        if working and all(abs(_rest(row) - target) <= AMOUNT_TOLERANCE for row in working):
            await broker.unprotected_parts.clear(entry.id)
            return  # in place (a pair whose take-profit sold in part is ``live_oco.reprotect``'s)
        if target <= 0 or _refused_lately(broker, parts, target):
            return
        try:
            pending = await _journal(broker, entry, templates, target)
        except errors.UserInputError as exc:  # below the market's minimum: nothing the exchange takes
            base = symbol.split("/")[0]
            await broker.unprotected_parts.note(
                entry.id,
                symbol,
                f"the {target:g} {base} its buy order {entry.id} ({symbol}) filled so far has no exits at "
                f"the exchange: {exc}; they are placed once the filled part is big enough",
                broker._emit,
            )
            return
    if working and not await _cancel_all(broker, working, REPLACED):
        return  # not done at the exchange yet: the next poll carries on
    _, parts = await exits_of(broker, entry)  # a leg that sold meanwhile is booked now
    target = broker._lots(symbol, await held(broker, entry, parts)) or 0.0
    pending = [row for row in parts if OrderState(row.state) is OrderState.INTENT]
    if target <= 0:
        await _cancel_all(broker, pending, REPLACED)
        await broker.unprotected_parts.clear(entry.id)
        return
    sized = []
    for row in pending:
        assert row.id is not None
        async with broker._lock(row.id):
            if abs((row.amount or 0.0) - target) > AMOUNT_TOLERANCE:
                row = await broker.journal.size_intent(row.id, target)
            sized.append(row)
    await _send(broker, entry, sized, target)


async def retire(broker: LiveBroker, entry: OrderRecord) -> bool:
    """Cancel the exits of the entry's filled parts (it ended: its templates are sent for the whole
    fill); True once none of them can still sell at the exchange."""
    assert entry.id is not None
    await broker.unprotected_parts.clear(entry.id)
    _, parts = await exits_of(broker, entry)
    cancelled = [row for row in parts if exit_cancels.unanswered(row)]
    if cancelled:
        await exit_cancels.answer(broker, cancelled, "its entry ended: its own exits protect all it filled")
    live = [row for row in parts if OrderState(row.state) in (OrderState.INTENT, *IN_FLIGHT)]
    return await _cancel_all(broker, live, ENDED)


def _cancelled_by_hand(row: OrderRecord) -> bool:
    """An exit of a filled part cancelled through MasterTrade with a reason of its own (one expired by
    the exchange has none; one cancelled at the exchange by someone else is placed again, loudly:
    ``exit_cancels``)."""
    return (
        OrderState(row.state) is OrderState.CANCELLED
        and row.reason not in (None, REPLACED, ENDED, live_oco.REPROTECT)
        and not (row.reason or "").startswith(exit_cancels.CANCELLED_AT_EXCHANGE)
    )


def _refused_lately(broker: LiveBroker, parts: list[OrderRecord], target: float) -> bool:
    """The exchange refused exits for this amount a moment ago: no new attempt at every poll."""
    since: datetime = broker.clock() - timedelta(seconds=RETRY_S)
    return any(
        OrderState(row.state) is OrderState.REJECTED
        and abs((row.amount or 0.0) - target) <= AMOUNT_TOLERANCE
        and row.updated_at >= since
        for row in parts
    )


async def _journal(
    broker: LiveBroker, entry: OrderRecord, templates: list[OrderRecord], amount: float
) -> list[OrderRecord]:
    """The exits of the filled part as intents (committed before anything is cancelled or sent)."""
    assert entry.id is not None
    stop, take = live_oco.legs(templates)
    pair = stop is not None and take is not None and live_oco.has_oco(broker)
    chosen = [row for row in (stop, take) if row is not None] if pair else [stop or take]
    requests = []
    for template in chosen:
        assert template is not None
        limit, level = broker._exit_levels(entry, template)
        if template.type == OrderType.STOP.value:
            request = OrderRequest(
                entry.symbol, Side.SELL, OrderType.STOP, amount=amount, stop_price=level, price=limit,
                role=template.role, strategy_id=template.strategy_id,
            )  # fmt: skip
        else:
            request = OrderRequest(
                entry.symbol, Side.SELL, OrderType.LIMIT, amount=amount, price=limit, role=template.role,
                strategy_id=template.strategy_id,
            )  # fmt: skip
        requests.append(request)
    markets = await broker.venue.load_markets()
    why = below_minimum(markets[entry.symbol], amount, requests[0].price)
    if why is not None:
        raise errors.UserInputError(why)
    journal = broker.journal
    if len(requests) == 2:
        legs = (requests[0], requests[1])
        rows = await journal.create_oco(
            broker.book, broker.mode, legs, placed_ts=entry.placed_ts, parent_id=entry.id
        )
        return list(rows)
    row, _ = await journal.create_order(
        broker.book, broker.mode, requests[0], placed_ts=entry.placed_ts, parent_id=entry.id
    )
    return [row]


async def _cancel_all(broker: LiveBroker, rows: list[OrderRecord], reason: str) -> bool:
    """Cancel ``rows`` (intents in the journal, the others at the exchange, each looked up after); True
    once none of them can still sell."""
    for row in rows:
        assert row.id is not None
        order_id = row.id
        row = await broker.journal.get(order_id)
        if OrderState(row.state).final:
            continue  # an OCO sibling cancelled with the first leg, or done meanwhile
        try:
            await broker.cancel(order_id, reason)
        except errors.MasterTradeError as exc:
            await broker._error(f"cancelling exit {row.client_order_id}: {exc}")
    after = [await broker.journal.get(row.id) for row in rows if row.id is not None]
    return not any(OrderState(row.state) in (OrderState.INTENT, *IN_FLIGHT) for row in after)


async def _send(broker: LiveBroker, entry: OrderRecord, rows: list[OrderRecord], amount: float) -> None:
    """Send the journaled exits of the filled part; an error alert when the exchange refuses them."""
    log.info("protecting the %g %s filled so far of order %s at the exchange", amount, entry.symbol, entry.id)
    if len(rows) == 2:
        stop, take = live_oco.legs(rows)
        assert stop is not None and take is not None
        ended = await live_oco.send_pair(broker, stop, take)
    else:
        [row] = rows
        assert row.id is not None
        async with broker._lock(row.id):
            ended = [await broker._send(await broker.journal.get(row.id))]
    refused = [row for row in ended if OrderState(row.state) is OrderState.REJECTED]
    if not refused:
        assert entry.id is not None
        await broker.unprotected_parts.clear(entry.id)
    _, parts = await exits_of(broker, entry)
    cancelled = [row for row in parts if exit_cancels.unanswered(row)]
    if refused:
        await broker._error(
            f"{amount:g} {entry.symbol} filled so far of order {entry.id} has no stop at the exchange: "
            f"its exits were refused: {refused[0].reason}"
        )
        if cancelled:
            await exit_cancels.answer(
                broker, cancelled, f"placing them again was refused ({refused[0].reason}): "
                f"the {amount:g} {entry.symbol} filled so far have no exits at the exchange",
            )  # fmt: skip
    elif cancelled:
        await exit_cancels.answer(
            broker, cancelled, exit_cancels.placed_again(ended) + " (its entry's own exits replace them "
            "when it ends)",
        )  # fmt: skip
