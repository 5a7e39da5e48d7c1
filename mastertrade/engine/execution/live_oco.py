"""A position's stop-loss and take-profit together at the exchange: one OCO order list, or the stop alone.

Both exits of one position sell the same coins, so two separate resting sells cannot both be placed (the
second finds the coins locked). Where the venue takes **one-cancels-other order lists** (``has_oco``:
Binance spot's ``POST /api/v3/orderList/oco``), the pair is sent as one list: the take-profit as the
``above`` leg (``LIMIT_MAKER``), the stop as the ``below`` leg (``STOP_LOSS_LIMIT``), each leg with its own
client order id (the journal's), the list with one derived from the stop's. When one leg fills (or the
stop triggers), the exchange expires the other; cancelling either leg cancels both. Each leg is journaled
as an ordinary order (sharing an ``oco`` key), so everything that resolves an order by client id, the
poll, reconciliation at a start, a cancel, works on each leg unchanged: a leg that filled while the
daemon was down is booked at the next start, its sibling taken as cancelled (expired).

The pair follows the broker's rules for one order: both legs are journaled (one transaction) and marked
sent before the request leaves; a refusal rejects both; a lost answer leaves both unknown, resolved by
their client ids; so does a 429 or 418 (a gateway may answer so after the exchange booked the list), the
list sent again with the same client ids only once neither leg is at the exchange after their arrival
window (``resend_pair``), a resend refused as a duplicate looked up, never rejected; a resend moves both
deadlines; each leg's lock is held while it is written. One leg found and the other not, once their
window is over, the missing one is settled from the list and its sibling (``lost_legs``), never declared
"never reached the exchange" (the exchange books a list as one).

Where the venue has native stops but no OCO, the **stop rests at the exchange alone and the take-profit is
kept by the daemon**: a manual entry's take-profit waits as an intent (``held``) and is sent when the
daemon sees the price reach it, after taking back the stop (which holds the coins); while the daemon is
down only the stop protects the position, which ``mt risk status`` and the TUI say (``held_exits``).

**A take-profit leg that fills in part** leaves the rest of the position without a stop: the exchange
expires the other legs of a list at its first fill, partial or not, while the rest of the take-profit keeps
resting. Once the price is back below the take-profit (or no price is known), the daemon cancels that rest
(which frees the coins) and sends a new pair at the same levels for what is left (``reprotect``, at each
poll and at a start). The new legs' client ids are derived from the old take-profit's, so a crash between
the cancel and the new pair cannot make two pairs: the next start finds the pair or sends it. A new pair
the exchange refuses (the price crossed a level meanwhile) is an error alert naming the unprotected amount.
A stop leg that triggered and filled in part is left alone: it is selling. A strategy's pair is not
touched here: its protection (``native_stops``) places a new pair for the position at the next price.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from mastertrade import errors
from mastertrade.db.models.trading import OrderRecord
from mastertrade.engine.execution import order_events, venue_steps
from mastertrade.engine.execution.lost_answers import DUPLICATE, DUPLICATE_HELD, rate_limited
from mastertrade.engine.market.retry import REFUSED
from mastertrade.engine.orders import IN_FLIGHT, OrderRequest, OrderState, OrderType, Side

if TYPE_CHECKING:
    from mastertrade.engine import events
    from mastertrade.engine.execution.journal import Journal
    from mastertrade.engine.market.ccxt_venue import CcxtVenue


class LiveBroker(Protocol):
    """What these functions use of ``live.LiveBroker``: its one-order machinery, applied to each leg
    (a port, so this module does not import the broker that calls it)."""

    journal: Journal
    venue: CcxtVenue
    exchange: Any
    book: str
    mode: str
    answer_within_s: float
    _sending_pairs: set[asyncio.Task[list[OrderRecord]]]
    _detached: set[int]
    _marks: dict[str, float]
    _late: list[Any]
    clock: Callable[[], datetime]

    @property
    def arrival_window_s(self) -> float: ...

    def _lock(self, order_id: int) -> asyncio.Lock: ...
    def _resend_due(self, row: OrderRecord) -> int | None: ...
    def _check_limits(self, market: dict[str, Any], amount: float, price: float | None) -> None: ...
    def _book_late(self, order_id: int, fills: list[Any]) -> None: ...
    def _emit(self, event: events.Event) -> None: ...
    async def _send(self, row: OrderRecord) -> OrderRecord: ...
    async def _rejected(self, row: OrderRecord, reason: str) -> OrderRecord: ...
    async def _error(self, what: str) -> None: ...
    async def _lookup(self, row: OrderRecord) -> dict[str, Any] | None: ...
    async def lookup_before_resend(self, row: OrderRecord, what: str) -> dict[str, Any] | None: ...
    async def _resolve(self, row: OrderRecord, *, cancel_reason: str | None = None) -> list[Any]: ...
    async def _sync(
        self, row: OrderRecord, order: dict[str, Any], *, cancel_reason: str | None = None
    ) -> list[Any]: ...
    async def cancel(self, order_id: int, reason: str = ...) -> OrderRecord: ...


log = logging.getLogger(__name__)

OCO_VENUES = frozenset({"binance"})
"""Venues whose OCO order lists MasterTrade sends (ccxt has no unified call for them)."""
REPROTECT = "re-protecting the rest with a new pair: the exchange expired its stop at a partial fill"
"""Why a take-profit leg that filled in part is cancelled by the daemon (``reprotect``)."""
HELD_NOTE = (
    "take-profit kept by the daemon ({venue} has no OCO order lists): it holds only while the daemon "
    "runs; the stop rests at the exchange"
)


def has_oco(broker: LiveBroker) -> bool:
    """Whether the broker's venue takes OCO order lists (and ccxt exposes the call)."""
    exchange = broker.exchange
    return exchange.id in OCO_VENUES and callable(getattr(exchange, "private_post_orderlist_oco", None))


def list_client_id(stop: OrderRecord) -> str:
    """The order list's client id, derived from its stop leg's (unique as that one is)."""
    return f"l{stop.client_order_id}"[:36]


def legs(rows: list[OrderRecord]) -> tuple[OrderRecord | None, OrderRecord | None]:
    """The stop leg and the take-profit leg among a position's exits."""
    stop = next((row for row in rows if row.type == OrderType.STOP.value), None)
    take = next((row for row in rows if row.role == "take_profit"), None)
    return stop, take


async def send_pair(broker: LiveBroker, stop: OrderRecord, take: OrderRecord) -> list[OrderRecord]:
    """Send two journaled intents as one OCO list, holding both legs' locks; returns the legs as they
    end (the send, a refusal, or a lost answer resolved by client id)."""
    assert stop.id is not None and take.id is not None
    async with AsyncExitStack() as stack:
        for order_id in sorted((stop.id, take.id)):  # one lock order: no deadlock with another pair
            await stack.enter_async_context(broker._lock(order_id))
        return await _send_pair(broker, stop.id, take.id)


async def _send_pair(
    broker: LiveBroker, stop_id: int, take_id: int, *, resends: int | None = None
) -> list[OrderRecord]:
    """Send the pair (``resends``: None for its first send; else how often it was sent again after rate
    limits proved nothing, its legs unknown) and settle what the answer (or its absence) says."""
    journal = broker.journal
    if resends is None:
        stop = await journal.transition(stop_id, OrderState.SENT, sent=True)
        take = await journal.transition(take_id, OrderState.SENT, sent=True)
    else:
        stop, take = await journal.get(stop_id), await journal.get(take_id)
    assert stop.amount is not None and stop.stop_price is not None and stop.price is not None
    assert take.price is not None
    exchange = broker.exchange
    symbol = stop.symbol
    params = {
        "symbol": exchange.market_id(symbol),
        "side": "SELL",
        "quantity": exchange.amount_to_precision(symbol, stop.amount),
        "listClientOrderId": list_client_id(stop),
        "aboveType": "LIMIT_MAKER",
        "abovePrice": exchange.price_to_precision(symbol, take.price),
        "aboveClientOrderId": take.client_order_id,
        "belowType": "STOP_LOSS_LIMIT",
        "belowStopPrice": exchange.price_to_precision(symbol, stop.stop_price),
        "belowPrice": exchange.price_to_precision(symbol, stop.price),
        "belowTimeInForce": "GTC",
        "belowClientOrderId": stop.client_order_id,
    }
    what = f"{broker.venue.id} OCO sell {stop.amount:g} {symbol}"
    attempts = 0

    async def attempt() -> Any:
        nonlocal attempts
        attempts += 1
        if attempts > 1:
            # A resend after a clock re-sync (the exchange refused the request for its timestamp): asked
            # first by client id all the same, never placed a second time.
            if await broker.lookup_before_resend(stop, what) is not None:
                raise errors.OrderStateUnknown(f"{what}: an earlier attempt reached the exchange")
            # both legs' arrival deadlines move
            await journal.mark_attempt(stop_id)
            await journal.mark_attempt(take_id)
        return await exchange.private_post_orderlist_oco(params)

    rows = [stop, take]
    try:
        # A 400 with Binance's code (-1013: the prices do not bracket the market) is its refusal. A 429
        # or 418 is not retried here: a gateway may answer so after the exchange booked the list.
        answer = await broker.venue.call(
            attempt, what=what, idempotent=False, passthrough=REFUSED, retry_rate_limits=False
        )
    except REFUSED as exc:
        return [await broker._rejected(row, f"{what}: refused: {' '.join(str(exc).split())}") for row in rows]
    except (errors.InsufficientFunds, errors.OrderRejected, errors.NotFound) as exc:
        if (
            (attempts > 1 or resends is not None)
            and isinstance(exc, errors.OrderRejected)
            and DUPLICATE.search(str(exc))
        ):
            # A resend refused because the exchange holds the legs' client ids: an earlier send reached
            # it after all. Looked up, never rejected (the legs would rest there, unknown to the book),
            # and never sent again.
            return await _unknown(broker, rows, what, exc, f"{DUPLICATE_HELD}: {exc}")
        return [await broker._rejected(row, str(exc)) for row in rows]
    except errors.RateLimitedUnknown as exc:
        # Proves nothing: looked up over the arrival window, booked when found, and sent again (the same
        # client ids) only once both legs are proven absent (``resend_pair``).
        sends = (resends or 0) + 1
        return await _unknown(
            broker, rows, what, exc, rate_limited(sends, broker.venue.retry.max_retries + 1, exc)
        )
    except (errors.AuthenticationFailed, errors.RateLimited) as exc:
        await broker._error(f"{what}: {exc}")
        return [await broker._rejected(row, str(exc)) for row in rows]
    except errors.MasterTradeError as exc:  # it may exist: each leg is resolved by its client id
        return await _unknown(broker, rows, what, exc, f"answer lost: {exc}")
    market = exchange.market(symbol)
    reports = {
        str(report.get("clientOrderId")): exchange.parse_order(report, market)
        for report in answer.get("orderReports") or []
    }
    ended = []
    for row in rows:
        assert row.id is not None
        report = reports.get(row.client_order_id)
        if report is None:  # an answer without this leg: ask for it by its client id
            broker._book_late(row.id, await broker._resolve(await journal.get(row.id)))
        else:
            broker._book_late(row.id, await broker._sync(await journal.get(row.id), report))
        placed = await journal.get(row.id)
        broker._emit(order_events.placed(placed, broker.mode))
        ended.append(placed)
    log.info("OCO %s of %s at the exchange: %s", list_client_id(stop), symbol, [r.state for r in ended])
    return ended


async def _unknown(
    broker: LiveBroker, rows: list[OrderRecord], what: str, exc: Exception, reason: str
) -> list[OrderRecord]:
    """The list's create proved nothing: counted as an exchange error, each leg marked unknown with
    ``reason`` and resolved by its client id."""
    await broker._error(f"{what}: {exc}")
    journal = broker.journal
    ended = []
    for row in rows:
        assert row.id is not None
        order_id = row.id
        row = await journal.get(order_id)
        if row.state == OrderState.SENT:
            row = await journal.transition(order_id, OrderState.UNKNOWN, reason=reason)
        elif row.state == OrderState.UNKNOWN:  # a resend's answer: its reason says which send this was
            row, _ = await journal.add_fills(order_id, [], OrderState.UNKNOWN, reason=reason)
        broker._book_late(order_id, await broker._resolve(row))
        ended.append(await journal.get(order_id))
    return ended


async def resend_pair(broker: LiveBroker, row: OrderRecord, resends: int) -> list[Any]:
    """A leg whose list's create was answered as rate-limited, which the exchange does not know once the
    window its request could arrive in is over (``live._resolve``; its lock held): the list is sent again,
    with the same client ids, only if its sibling is absent too (looked up). A sibling found means the
    list is there (this leg not shown yet): booked, this leg left unknown. Returns no fills (those of a
    resend reach the trader through ``poll``)."""
    pair = [
        other
        for other in await broker.journal.orders(book=broker.book, symbol=row.symbol)
        if other.oco == row.oco
    ]
    stop, take = legs(pair)
    if stop is None or take is None or stop.id is None or take.id is None:
        return []
    sibling = take if row.id == stop.id else stop
    assert sibling.id is not None
    lock = broker._lock(sibling.id)
    if lock.locked():
        return []  # its writer is at it (a poll resolving it, a cancel): the next poll looks again
    async with lock:
        sibling = await broker.journal.get(sibling.id)
        sent_at = sibling.sent_at or sibling.updated_at
        if broker._resend_due(sibling) is None or broker.clock() < sent_at + timedelta(
            seconds=broker.arrival_window_s
        ):
            return []  # found already, or its own window still open: this leg is looked up again later
        try:
            found = await broker._lookup(sibling)
        except errors.MasterTradeError as exc:
            await broker._error(f"looking up {sibling.client_order_id}: {exc}")
            return []
        if found is not None:
            broker._late += await broker._sync(sibling, found)
            return []
        log.info("OCO %s: not at the exchange after a rate limit; sending it again", list_client_id(stop))
        for leg in (stop, take):
            assert leg.id is not None
            await broker.journal.mark_attempt(leg.id, at=broker.clock())  # its arrival deadline moves
            broker._detached.add(leg.id)
        await _send_pair(broker, stop.id, take.id, resends=resends)
    return []


async def send_exits(broker: LiveBroker, exits: list[OrderRecord]) -> None:
    """Send a filled entry's sized exits: a stop and a take-profit as one OCO list where the venue has
    them; else the stop alone, the take-profit held by the daemon (``watch_held``)."""
    stop, take = legs(exits)
    if stop is not None and take is not None and has_oco(broker):
        await send_pair(broker, stop, take)
        return
    for row in exits:
        if row is take and await _held(broker, row):
            stop_row, _ = legs(await _siblings(broker, row))
            if stop_row is not None and stop_row.filled > 0 and OrderState(stop_row.state).final:
                assert row.id is not None
                async with broker._lock(row.id):
                    await broker.journal.transition(
                        row.id, OrderState.CANCELLED, reason=f"its stop {stop_row.id} sold first"
                    )
            else:
                log.info("take-profit %s kept by the daemon: %s", row.client_order_id, _held_reason(broker))
            continue
        assert row.id is not None
        async with broker._lock(row.id):
            await broker._send(await broker.journal.get(row.id))


async def _siblings(broker: LiveBroker, row: OrderRecord) -> list[OrderRecord]:
    assert row.parent_id is not None
    rows = await broker.journal.orders(book=broker.book, symbol=row.symbol)
    # the exits journaled with the same entry (those of its filled parts have ``oco`` keys of their own)
    return [
        other
        for other in rows
        if other.parent_id == row.parent_id and other.oco == row.oco and other.id != row.id
    ]


async def _held(broker: LiveBroker, take: OrderRecord) -> bool:
    """A take-profit waits with the daemon while its stop sibling rests (or is on its way) at a venue
    without OCO lists."""
    if take.parent_id is None or has_oco(broker):
        return False
    stop, _ = legs(await _siblings(broker, take))
    return stop is not None and OrderState(stop.state) not in (OrderState.REJECTED, OrderState.CANCELLED)


def _held_reason(broker: LiveBroker) -> str:
    return HELD_NOTE.format(venue=broker.venue.id)


async def held_exits(broker: LiveBroker) -> list[OrderRecord]:
    """Take-profits of filled entries that the daemon keeps (venues without OCO lists)."""
    if has_oco(broker):
        return []
    held = []
    for row in await broker.journal.orders(book=broker.book, states=[OrderState.INTENT]):
        if row.parent_id is None or row.role != "take_profit" or row.amount is None:
            continue
        parent = await broker.journal.get(row.parent_id)
        if OrderState(parent.state).final and parent.filled > 0 and await _held(broker, row):
            held.append(row)
    return held


async def watch_held(broker: LiveBroker, symbol: str, price: float) -> None:
    """The price reached a held take-profit: take back its stop (which holds the coins), then send the
    take-profit (a limit sell at its level, marketable now). A stop that filled first leaves nothing to
    take: the take-profit is cancelled (at once, whatever the price)."""
    for take in await held_exits(broker):
        if take.symbol != symbol or take.price is None:
            continue
        assert take.id is not None
        take_id = take.id
        stop, _ = legs(await _siblings(broker, take))
        stop_sold = stop is not None and stop.filled > 0 and OrderState(stop.state).final
        if price < take.price and not stop_sold:
            continue
        if stop is not None and stop.id is not None and OrderState(stop.state).working:
            await broker.cancel(stop.id, "take-profit reached: the daemon sells instead")
            stop = await broker.journal.get(stop.id)
        async with broker._lock(take_id):
            take = await broker.journal.get(take_id)
            if take.state != OrderState.INTENT:
                continue
            if stop is not None and stop.filled > 0:
                await broker.journal.transition(
                    take_id, OrderState.CANCELLED, reason=f"its stop {stop.id} sold first"
                )
                continue
            log.info("take-profit %s of %s reached at %.8g: selling", take.client_order_id, symbol, price)
            await broker._send(take)


def held_info(broker: LiveBroker, rows: list[OrderRecord]) -> list[dict[str, Any]]:
    """What ``mt risk status`` shows of the held take-profits."""
    return [
        {
            "order_id": row.id,
            "symbol": row.symbol,
            "price": row.price,
            "amount": row.amount,
            "by": "daemon",
            "note": _held_reason(broker),
        }
        for row in rows
    ]


async def reconcile_pairs(broker: LiveBroker, stale_before: Any) -> dict[str, list[str]]:
    """At a start: OCO pairs journaled but not sent (a crash between journal and send). Known to the
    exchange: resolved; stale: cancelled; else sent now as one list."""
    done: dict[str, list[str]] = {"sent": [], "cancelled": [], "resolved": []}
    intents = await broker.journal.orders(book=broker.book, states=[OrderState.INTENT])
    pairs: dict[str, list[OrderRecord]] = {}
    for row in intents:
        if row.parent_id is None and row.oco is not None:
            pairs.setdefault(row.oco, []).append(row)
    for rows in pairs.values():
        stop, take = legs(rows)
        if stop is None or take is None or stop.id is None or take.id is None:
            continue
        async with AsyncExitStack() as stack:
            for order_id in sorted((stop.id, take.id)):
                await stack.enter_async_context(broker._lock(order_id))
            stop, take = await broker.journal.get(stop.id), await broker.journal.get(take.id)
            if stop.state != OrderState.INTENT or take.state != OrderState.INTENT:
                continue
            outcome = await _reconcile_pair(broker, stop, take, stale_before)
        done[outcome] += [stop.client_order_id, take.client_order_id]
    return done


async def _reconcile_pair(broker: LiveBroker, stop: OrderRecord, take: OrderRecord, stale_before: Any) -> str:
    """One unsent pair at a start, its locks held: what became of it ("resolved", "cancelled", "sent")."""
    known = [(row, await broker._lookup(row)) for row in (stop, take)]
    if any(found is not None for _, found in known):
        for row, found in known:
            assert row.id is not None
            await broker.journal.transition(row.id, OrderState.SENT, sent=True)
            if found is not None:
                await broker._sync(await broker.journal.get(row.id), found)
        return "resolved"
    if stop.created_at < stale_before:
        for row in (stop, take):
            assert row.id is not None
            await broker.journal.transition(row.id, OrderState.CANCELLED, reason="stale intent: never sent")
        return "cancelled"
    assert stop.id is not None and take.id is not None
    await _send_pair(broker, stop.id, take.id)
    return "sent"


async def wait_briefly(broker: LiveBroker, stop: OrderRecord, take: OrderRecord) -> list[OrderRecord]:
    """Send a pair in the background and wait for it up to the broker's ``answer_within_s``."""
    task: asyncio.Task[list[OrderRecord]] = asyncio.create_task(
        send_pair(broker, stop, take), name=f"send OCO {stop.client_order_id}"
    )
    broker._sending_pairs.add(task)
    task.add_done_callback(broker._sending_pairs.discard)
    await asyncio.wait({task}, timeout=broker.answer_within_s)
    if task.done():
        return task.result()
    for row in (stop, take):
        assert row.id is not None
        broker._detached.add(row.id)
    return [await broker.journal.get(row.id) for row in (stop, take) if row.id is not None]


def successor_ids(take: OrderRecord) -> tuple[str, str]:
    """Client ids of the stop and take-profit that re-protect what ``take`` left (derived from its own,
    the same at every attempt)."""
    ids = []
    for leg in ("stop", "take"):
        digest = hashlib.blake2b(f"{take.client_order_id}:{leg}".encode(), digest_size=16).hexdigest()
        ids.append(f"mt{digest}")
    return ids[0], ids[1]


async def reprotect(broker: LiveBroker, *, at_start: bool = False) -> list[str]:
    """Pairs whose take-profit leg filled in part, its stop expired: the take-profit's rest is cancelled
    and a new pair at the same levels sent for what is left (see the module docstring). At a start, also
    the rests cancelled for that by a run that stopped before sending their new pair. Returns the new
    pairs' stop client ids."""
    if not has_oco(broker):
        return []
    journal = broker.journal
    done = []
    states = [*IN_FLIGHT, OrderState.CANCELLED] if at_start else IN_FLIGHT
    candidates = [
        row
        for row in await journal.orders(book=broker.book, states=states)
        # a strategy's pair is the protection's (``native_stops``), which re-places it at the next price
        if row.oco is not None and row.role == "take_profit" and row.filled > 0 and row.strategy_id is None
    ]
    for take in candidates:
        if OrderState(take.state) is OrderState.CANCELLED and take.reason != REPROTECT:
            continue  # cancelled by hand or with its stop: nothing to re-protect
        stop, _ = legs(
            [row for row in await journal.orders(book=broker.book, symbol=take.symbol) if row.oco == take.oco]
        )
        if stop is None or stop.filled > 0 or not OrderState(stop.state).final:
            continue  # the stop still rests, or it is selling (triggered)
        stop_id, take_id = successor_ids(take)
        try:
            await journal.get(client_order_id=stop_id)
            continue  # re-protected already
        except errors.NotFound:
            pass
        if OrderState(take.state) in IN_FLIGHT:
            mark = broker._marks.get(take.symbol)
            if take.price is not None and mark is not None and mark >= take.price:
                continue  # the price is at the take-profit: its rest is filling
            assert take.id is not None
            if broker._lock(take.id).locked():
                continue  # its writer is at it (a sell by hand replacing it): the next poll looks again
            try:
                take = await broker.cancel(take.id, REPROTECT)
            except errors.OperationFailed as exc:  # a sell by hand cancelled it first (its own exits)
                log.info("take-profit %s not re-protected: %s", take.client_order_id, exc)
                continue
            if OrderState(take.state) is not OrderState.CANCELLED:
                continue  # filled meanwhile, or the cancel's answer is still to come
        sent = await _send_successor(broker, stop, take, stop_id, take_id)
        if sent:
            done.append(stop_id)
    return done


async def _send_successor(
    broker: LiveBroker, stop: OrderRecord, take: OrderRecord, stop_id: str, take_id: str
) -> bool:
    """The new pair for what ``take`` left unsold; an error alert when it cannot be sent."""
    assert take.amount is not None and stop.stop_price is not None and stop.price is not None
    symbol = take.symbol
    exchange = broker.exchange
    rest = venue_steps.whole_steps(exchange, symbol, take.amount - take.filled)
    unprotected = f"{rest:g} {symbol} of order {take.parent_id or take.id} has no stop"
    try:
        markets = await broker.venue.load_markets()
        broker._check_limits(markets[symbol], rest, stop.price)
    except errors.MasterTradeError as exc:
        await broker._error(f"{unprotected}: the rest cannot be re-protected: {exc}")
        return False
    requests = (
        OrderRequest(
            symbol, Side.SELL, OrderType.STOP, amount=rest, stop_price=stop.stop_price, price=stop.price,
            role=stop.role, strategy_id=stop.strategy_id, client_order_id=stop_id,
        ),
        OrderRequest(
            symbol, Side.SELL, OrderType.LIMIT, amount=rest, price=take.price, role="take_profit",
            strategy_id=take.strategy_id, client_order_id=take_id,
        ),
    )  # fmt: skip
    new_stop, new_take = await broker.journal.create_oco(
        broker.book, broker.mode, requests, placed_ts=take.placed_ts, parent_id=take.parent_id
    )
    log.info("re-protecting %s: new OCO %s", unprotected, list_client_id(new_stop))
    ended = await send_pair(broker, new_stop, new_take)
    if any(OrderState(row.state) is OrderState.REJECTED for row in ended):
        await broker._error(f"{unprotected}: the new pair was refused: {ended[0].reason}")
        return False
    return True
