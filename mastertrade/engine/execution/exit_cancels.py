"""Exits cancelled at the exchange by someone other than MasterTrade: the trader, on the exchange's website.

A stop-loss or take-profit resting at the exchange can end ``cancelled`` three ways, which the journal
tells apart:

- **MasterTrade cancelled it** (replacing it, selling itself, ``mt orders cancel``): the cancel is written
  on the order before it is asked (``CANCELLING``), so it is known as ours even when the daemon dies before
  the exchange's answer is read; an OCO leg the exchange cancelled with such a sibling takes its reason,
  except the stop leg of a take-profit cancelled alone (``mt orders cancel`` without ``--unprotect``,
  ``take_profit_only``): ``STOP_KEPT``, placed again alone by ``restore`` (an info line, not an alert);
- **the exchange expired it** (Binance ``EXPIRED``: the other leg of its OCO list filled or triggered):
  no protection was lost, nothing is said;
- **someone else cancelled it at the exchange** (Binance ``CANCELED`` with no cancel of ours): the reason
  is ``CANCELLED_AT_EXCHANGE``.

What a trader expects then. The position is still held, and a cancel on the website cannot be told from
a slip, a second tool on the same API key or the exchange's own housekeeping; MasterTrade treats it as
``mt orders cancel`` treats a stop without ``--unprotect``: the position keeps its protection. The exits
are placed again at their levels for what is held, once the exchange has confirmed by their client order
ids that they are cancelled (never resent on a guess), and it is said loudly: a warning in the daemon log
and a critical alert (the ``risk_limit`` rule, limit ``exit_cancelled``) naming the symbol, the order,
its client order id and what was done. The one door to remove a position's exits on purpose is
``mt orders cancel ID --unprotect`` (an OCO list's other leg goes with it; a take-profit's cancel without
it keeps the stop): exits cancelled there are
MasterTrade's cancel and are not put back.

Who places them again: a strategy's exits, its protection (``native_stops``, at the protection's levels
now); the exits of a still-filling entry's filled part, ``live_partial``; every other exit (a filled
bracketed buy's, a pair re-protecting a partly filled take-profit's rest), ``restore`` here, under client
order ids derived from the cancelled ones, so a crash between the journal and the send never makes two.
The old orders' reason then says what was done (``...: placed again as order N``), which also marks them
answered: each cancel is told once.

An exchange may forget a leg of a cancelled list (Binance archives an order that ended without trading):
asked by its client id, it answers "order does not exist". It is confirmed through its order list and by
its order id instead (``archived_legs``); a list goes back as one list, once each of its legs is settled
(``lost_legs``): before, its take-profit went back alone while its archived stop was still unsettled, or
the confirmation failed at every poll, an error logged each time and the position left bare. When the
exchange can tell nothing (the list archived too), nothing is placed on a guess: it is said once, and
the position is shown without exits (``unprotected``) until exits work there again or it is sold. A lone
stop (no list) the exchange no longer shows by its client id is confirmed by its order id the same way
(``archived_orders`` first settles it so). A strategy's exits follow the same rules (``native_stops``).

On a venue without OCO lists the stop rests alone and its take-profit waits with the daemon
(``live_oco.held_exits``, linked to its stop by their ``oco`` key): the stop placed again takes the old
one's key, so that take-profit is watched again (else it was silently dropped from watching).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from mastertrade import errors
from mastertrade.db.models.trading import OrderRecord
from mastertrade.engine import events
from mastertrade.engine.execution import archived_legs, live_oco, venue_steps
from mastertrade.engine.execution.lost_answers import EXPIRED
from mastertrade.engine.orders import IN_FLIGHT, OrderRequest, OrderState, OrderType, Side

if TYPE_CHECKING:
    from mastertrade.engine.execution.ledger import Ledger

log = logging.getLogger(__name__)

CANCELLED_AT_EXCHANGE = "cancelled at the exchange, not by MasterTrade"
"""The reason of an exit someone else cancelled at the exchange (until it is answered: see ``answer``)."""
TAKE_PROFIT_ONLY = "cancelled by hand, the take-profit only: its stop is kept"
"""The reason of a take-profit leg cancelled by ``mt orders cancel`` without ``--unprotect``
(``take_profit_only``): the exchange cancels its OCO list as one, and the stop leg is placed again alone."""
KEPT = "cancelled by the exchange with its take-profit (one OCO list)"
STOP_KEPT = f"{KEPT}, to be placed again alone"
"""The reason of such a take-profit's stop leg until ``restore`` has placed it again alone."""
CANCELLING = "cancel asked: "
"""The reason an order carries while MasterTrade's cancel of it is on its way (followed by the reason)."""
EXPIRED_AT_FILL = EXPIRED.split("{", 1)[0]
"""How the reason of an OCO leg settled as expired at its sibling's fill begins (``lost_legs``)."""
EXIT_ROLES = frozenset({"stop_loss", "trailing_stop", "take_profit"})
UNCONFIRMED = "not placed again: the exchange shows"
"""How ``forgotten`` answers exits whose cancel the exchange can no longer confirm begins (after ``why``)."""
LIMIT = "exit_cancelled"
"""The ``RiskBreached`` limit of the alert (``alerts.rules``)."""
_NAMES = {"stop_loss": "stop-loss", "trailing_stop": "trailing stop", "take_profit": "take-profit"}


class Notes(Protocol):
    """Where a position without exits at the exchange is noted (``unprotected.Unprotected``)."""

    async def note(self, entry_id: int, symbol: str, message: str, publish: Any) -> None: ...


class Broker(archived_legs.Broker, Protocol):
    """What these functions use of ``live.LiveBroker`` besides what ``archived_legs`` does."""

    @property
    def unprotected_parts(self) -> Notes: ...

    async def ledger(self) -> Ledger: ...


def is_exit(row: OrderRecord) -> bool:
    """A bracket exit that rests at the exchange (a stop, or a take-profit limit)."""
    return row.side == Side.SELL.value and row.role in EXIT_ROLES and row.type != OrderType.MARKET.value


def cancelling(reason: str) -> str:
    """The reason written on an order before MasterTrade asks the exchange to cancel it."""
    return f"{CANCELLING}{reason}"


def cancel_asked(row: OrderRecord) -> str | None:
    """The reason of MasterTrade's cancel on its way for ``row`` (``cancelling``), or None."""
    reason = row.reason or ""
    return reason.removeprefix(CANCELLING) if reason.startswith(CANCELLING) else None


def unanswered(row: OrderRecord) -> bool:
    """An exit cancelled at the exchange that nobody has answered yet (placed again, or said why not)."""
    return row.state == OrderState.CANCELLED and row.reason == CANCELLED_AT_EXCHANGE


async def why_cancelled(broker: live_oco.LiveBroker, row: OrderRecord) -> str | None:
    """The reason to journal for an exit the exchange reports ``canceled`` without MasterTrade's cancel:
    its OCO sibling's cancel reason when MasterTrade cancelled that one (the exchange cancels a list as
    one), else ``CANCELLED_AT_EXCHANGE``; None while the sibling's writer is at it (the next look
    decides)."""
    if row.oco is None:
        return CANCELLED_AT_EXCHANGE
    siblings = [
        other
        for other in await broker.journal.orders(book=broker.book, symbol=row.symbol)
        if other.oco == row.oco and other.id != row.id and other.id is not None
    ]
    for other in siblings:
        assert other.id is not None
        if broker._lock(other.id).locked():
            return None
        asked = cancel_asked(other)
        if asked is not None:
            return STOP_KEPT if _keeps_stop(asked, row) else asked
        ours = other.reason is not None and not other.reason.startswith(CANCELLED_AT_EXCHANGE)
        if other.state == OrderState.CANCELLED and ours:
            assert other.reason is not None
            return STOP_KEPT if _keeps_stop(other.reason, row) else other.reason
    return CANCELLED_AT_EXCHANGE


def _keeps_stop(reason: str, row: OrderRecord) -> bool:
    """Whether ``row`` is the stop leg of a take-profit cancelled alone (its sibling's ``reason``)."""
    return reason.startswith(TAKE_PROFIT_ONLY) and row.role != "take_profit"


def describe(row: OrderRecord) -> str:
    """The order in words: "stop-loss order 12 (client id mt...)"."""
    return f"{_NAMES.get(row.role or '', row.role)} order {row.id} (client id {row.client_order_id})"


async def answer(
    broker: live_oco.LiveBroker,
    rows: Sequence[OrderRecord],
    done: str,
    *,
    why: str = CANCELLED_AT_EXCHANGE,
    loud: bool = True,
) -> str:
    """Say what was done about exits cancelled at the exchange (``why``): loudly (a warning and a
    critical alert) unless ``loud`` is false (a stop kept after its take-profit's cancel by hand, placed
    again: an info line), and write it on them (so each is answered once). Returns the message."""
    first = rows[0]
    whose = f"strategy {first.strategy_id}'s" if first.strategy_id else "the account's"
    names = " and ".join(describe(row) for row in rows)
    message = f"{names} of {whose} {first.symbol} position {'were' if len(rows) > 1 else 'was'} {why}: {done}"
    for row in rows:
        assert row.id is not None
        await broker.journal.add_fills(row.id, [], OrderState.CANCELLED, reason=f"{why}: {done}")
    if not loud:
        log.info(message)
        return message
    log.warning(message)
    broker._emit(
        events.RiskBreached(
            limit=LIMIT,
            value=max((row.amount or 0.0) - row.filled for row in rows),
            threshold=0.0,
            message=message,
            severity="critical",
            symbol=first.symbol,
        )
    )
    return message


def placed_again(rows: Sequence[OrderRecord], *, door: bool = True) -> str:
    """What ``answer`` says of exits placed again as ``rows``."""
    new = " with ".join(describe(row) for row in rows)
    stop = next((row for row in rows if row.role != "take_profit"), rows[0])
    how = (
        f"; to remove the position's exits on purpose: mt orders cancel {stop.id} --unprotect" if door else ""
    )
    return f"placed again as {new}{how}"


def successor_ids(row: OrderRecord) -> tuple[str, str]:
    """Client ids of the stop and take-profit that ``restore`` places for an exit cancelled at the
    exchange (derived from its own, the same at every attempt)."""
    ids = []
    for leg in ("stop", "take"):
        digest = hashlib.blake2b(f"{row.client_order_id}:restore:{leg}".encode(), digest_size=16)
        ids.append(f"mt{digest.hexdigest()}")
    return ids[0], ids[1]


def expired_with(stop: OrderRecord, take: OrderRecord) -> bool:
    """Whether ``stop`` is the OCO stop leg the exchange expired at its take-profit ``take``'s first,
    partial fill (ended unfilled, by no cancel anyone asked)."""
    return (
        take.filled > 0
        and stop.oco == take.oco
        and stop.state == OrderState.CANCELLED
        and not stop.filled > 0
        and (stop.reason is None or stop.reason.startswith(EXPIRED_AT_FILL))
    )


async def keep_expired(broker: Broker) -> None:
    """The stops expired at the first fill of a take-profit whose rest was then cancelled by hand
    (``take_profit_only``): marked ``STOP_KEPT``, so ``restore`` places them again alone for what is
    left. Found from the take-profits' reason, which is written before their cancel is asked: a crash
    between the two leaves it for the next poll or start."""
    journal = broker.journal
    for take in await journal.orders(
        book=broker.book, states=[OrderState.CANCELLED], reason=TAKE_PROFIT_ONLY
    ):
        if not take.filled > 0 or take.oco is None:
            continue
        for stop in await journal.orders(book=broker.book, symbol=take.symbol):
            if (
                stop.role != "take_profit"
                and is_exit(stop)
                and stop.id != take.id
                and expired_with(stop, take)
            ):
                assert stop.id is not None
                await journal.add_fills(stop.id, [], OrderState.CANCELLED, reason=STOP_KEPT)


async def restore(broker: Broker) -> list[str]:
    """Place again the account's exits cancelled at the exchange (see the module docstring): those of
    a filled bracketed buy and the pairs re-protecting a take-profit's rest; a strategy's are its
    protection's, a still-filling entry's filled part's ``live_partial``'s. Returns the new stops'
    client ids."""
    journal = broker.journal
    await keep_expired(broker)
    groups: dict[str, list[OrderRecord]] = {}
    rows = [
        row
        for reason in (CANCELLED_AT_EXCHANGE, STOP_KEPT)
        for row in await journal.orders(book=broker.book, states=[OrderState.CANCELLED], reason=reason)
    ]
    for row in sorted(rows, key=lambda row: row.id or 0):
        if row.strategy_id is not None or not is_exit(row):
            continue
        if row.parent_id is not None and not OrderState((await journal.get(row.parent_id)).state).final:
            continue  # a still-filling entry's part: ``live_partial`` re-protects it
        groups.setdefault(f"{row.reason}:{row.oco or f'order-{row.id}'}", []).append(row)
    placed = []
    for group in groups.values():
        try:
            done = await _restore_once(broker, group)
        except errors.MasterTradeError as exc:  # the next poll tries again
            await broker._error(f"placing again the exits cancelled at the exchange: {exc}")
            continue
        if done is not None:
            placed.append(done)
    return placed


async def unconfirmed(
    broker: archived_legs.Broker, rows: Sequence[OrderRecord]
) -> tuple[OrderRecord, bool] | None:
    """The first of ``rows`` the exchange does not confirm ended, and whether it knows it at all (False:
    neither by its client id nor through its list or by its order id, which the caller says once:
    ``forgotten``; else the reason is logged); None when it confirms each. Each is asked by its client
    order id; one the exchange no longer shows so (archived) is asked through its order list, if it has
    one, and by its order id (``archived_legs``): checked before an exit is placed again, never on a
    guess."""
    for row in rows:
        try:
            found = await broker._lookup(row)
            if found is None and await archived_legs.ended(broker, row):
                continue
        except errors.MasterTradeError as exc:
            log.warning("%s: not confirmed cancelled yet: %s", describe(row), exc)
            return row, True
        if found is None:
            return row, False
        status = str(found.get("status"))
        if status not in archived_legs.ENDED:
            log.error(
                "%s: the journal has it cancelled, the exchange says %s: nothing placed",
                describe(row),
                status,
            )
            return row, True
    return None


async def _restore_once(broker: Broker, rows: list[OrderRecord]) -> str | None:
    """``_restore`` under the first cancelled exit's lock: a poll and ``mt orders cancel`` of a
    take-profit (``take_profit_only``) may place the same stop at the same time; the second finds it
    answered."""
    first = rows[0]
    assert first.id is not None
    async with broker._lock(first.id):
        rows = [await broker.journal.get(row.id) for row in rows]
        if any(row.reason not in (CANCELLED_AT_EXCHANGE, STOP_KEPT) for row in rows):
            return None
        if await _leg_pending(broker, rows):
            return None
        return await _restore(broker, rows)


async def _leg_pending(broker: Broker, rows: list[OrderRecord]) -> bool:
    """Whether another leg of the OCO list of ``rows`` is still in flight in the journal: a list is
    placed again as one, once the journal has read how each of its legs ended (a leg the exchange no
    longer shows is settled by ``lost_legs``, or marked unsettled and said there). Placed alone before,
    the take-profit of a list whose stop leg the exchange had archived went back without a stop."""
    keys = {row.oco for row in rows if row.oco is not None}
    if not keys:
        return False
    ids = {row.id for row in rows}
    return any(
        other.oco in keys and other.id not in ids and OrderState(other.state) in IN_FLIGHT
        for other in await broker.journal.orders(book=broker.book, symbol=rows[0].symbol)
    )


async def _restore(broker: Broker, rows: list[OrderRecord]) -> str | None:
    journal = broker.journal
    stop, take = live_oco.legs(rows)
    first = stop or rows[0]
    symbol = first.symbol
    kept = first.reason == STOP_KEPT
    why = KEPT if kept else CANCELLED_AT_EXCHANGE
    doubt = await unconfirmed(broker, rows)
    if doubt is not None:
        if not doubt[1]:
            await forgotten(broker, rows, doubt[0], why=why)
        return None
    held = await _held_take(broker, first) if take is None else None
    stop_id, take_id = successor_ids(first)
    try:
        made = [await journal.get(client_order_id=stop_id)]
        if take is not None and stop is not None:
            made.append(await journal.get(client_order_id=take_id))
    except errors.NotFound:
        made = []
    if not made:
        holding = (await broker.ledger()).held(symbol)
        rest = min(max((row.amount or 0.0) - row.filled for row in rows), holding)
        amount = venue_steps.whole_steps(broker.exchange, symbol, rest) if rest > 0 else 0.0
        if not amount > 0:
            await answer(
                broker,
                rows,
                "not placed again: nothing of the position is left to protect",
                why=why,
                loud=not kept,
            )
            return None
        requests = [exit_like(row, amount, cid) for row, cid in ((stop, stop_id), (take, take_id)) if row]
        try:
            markets = await broker.venue.load_markets()
            broker._check_limits(markets[symbol], amount, requests[0].price)
        except errors.UserInputError as exc:
            await answer(
                broker,
                rows,
                f"not placed again ({exc}): the {amount:g} {symbol} have no exits at the exchange",
                why=why,
            )
            return None
        if len(requests) == 2:
            made = list(
                await journal.create_oco(
                    broker.book,
                    broker.mode,
                    (requests[0], requests[1]),
                    placed_ts=first.placed_ts,
                    parent_id=first.parent_id,
                )
            )
        else:
            row, _ = await journal.create_order(
                broker.book,
                broker.mode,
                requests[0],
                placed_ts=first.placed_ts,
                parent_id=first.parent_id,
                oco=first.oco if held is not None else None,  # the held take-profit's stop again
            )
            made = [row]
    if all(row.state == OrderState.INTENT for row in made):
        made = await _send(broker, made)
    refused = [row for row in made if row.state == OrderState.REJECTED]
    if refused:
        await answer(
            broker,
            rows,
            f"placing it again was refused ({refused[0].reason}): the position has no exits at the exchange",
            why=why,
        )
        return None
    done = f"placed again alone as {describe(made[0])}" if kept else placed_again(made)
    if held is not None:
        done += f"; {describe(held)}, which the daemon keeps for it, is watched again"
    await answer(broker, rows, done, why=why, loud=not kept)
    return made[0].client_order_id


async def forgotten(
    broker: Broker,
    rows: Sequence[OrderRecord],
    row: OrderRecord,
    *,
    why: str = CANCELLED_AT_EXCHANGE,
    watched: bool = False,
) -> None:
    """``row`` is known to the exchange neither by its client id nor through its order list or by its
    order id: how it ended cannot be confirmed, so nothing is placed on a guess. Said once (the exits
    answered, a warning and a critical alert, instead of an error logged at every poll) and shown with
    the position (``unprotected``, ``mt positions``) until exits work at the exchange again or it is
    sold. ``watched``: a strategy's, whose protection the daemon keeps while it runs (``native_stops``)."""
    first = rows[0]
    assert first.id is not None
    symbol = first.symbol
    held = (await broker.ledger()).held(symbol)
    done = (
        f"{UNCONFIRMED} {describe(row)} neither by its client id nor {_asked(row)}, so it cannot confirm "
        f"it ended; the {held:g} {symbol} held have no exits at the exchange"
        + (" (only the daemon's own watch protects the position, while it runs)" if watched else "")
        + ": check the order there"
    )
    await answer(broker, rows, done, why=why)
    shown = f"no exits at the exchange: {describe(row)} was {why}, and is not placed again ({done})"
    await broker.unprotected_parts.note(first.parent_id or first.id, symbol, shown, lambda _: None)


def _asked(row: OrderRecord) -> str:
    """How the exchange was asked about ``row`` beyond its client id (``archived_legs.ended``)."""
    return "through its order list or by its order id" if row.oco is not None else "by its order id"


async def _held_take(broker: Broker, stop: OrderRecord) -> OrderRecord | None:
    """The take-profit the daemon keeps for ``stop`` (a venue without OCO lists: ``live_oco.held_exits``):
    the stop placed again goes in its place beside it, so the take-profit is watched again."""
    if stop.oco is None or live_oco.has_oco(broker):
        return None
    for row in await broker.journal.orders(book=broker.book, states=[OrderState.INTENT], symbol=stop.symbol):
        if row.role == "take_profit" and row.oco == stop.oco and row.parent_id == stop.parent_id:
            return row
    return None


def exit_like(row: OrderRecord, amount: float, client_order_id: str) -> OrderRequest:
    """The order placing exit ``row`` again for ``amount`` at its levels, under ``client_order_id`` (here,
    and for the exits a sell by hand resizes: ``live_bracket_sell``)."""
    kind = OrderType.STOP if row.type == OrderType.STOP.value else OrderType.LIMIT
    return OrderRequest(
        row.symbol, Side.SELL, kind, amount=amount, stop_price=row.stop_price, price=row.price,
        role=row.role, strategy_id=row.strategy_id, client_order_id=client_order_id,
    )  # fmt: skip


async def _send(broker: Broker, rows: list[OrderRecord]) -> list[OrderRecord]:
    if len(rows) == 2:
        stop, take = live_oco.legs(rows)
        assert stop is not None and take is not None
        return await live_oco.send_pair(broker, stop, take)
    [row] = rows
    assert row.id is not None
    async with broker._lock(row.id):
        row = await broker.journal.get(row.id)
        if row.state != OrderState.INTENT:
            return [row]
        return [await broker._send(row)]
