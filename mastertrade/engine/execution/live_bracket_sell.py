"""A sell by hand of a live position whose bracket exits rest at the exchange (``bracket_sell``).

**The order of the steps.** The exits hold the coins at the exchange (Binance locks an OCO list's
quantity once, a stop alone locks it too), so nothing can be placed beside them: the old exits go first,
then the new exits for what the sell leaves, then the sell:

1. the sell is journaled as an intent (its reason, ``MARK``, names the old exits and what the new ones
   keep), then the new exits as intents, under client order ids derived from the sell's, committed
   before anything is asked of the exchange;
2. the old exits are cancelled, each cancel journaled first as MasterTrade's own (``exit_cancels``'s
   ``cancel asked:``) and each confirmed by looking it up by its client order id, never assumed;
3. the new exits are placed (one OCO list, or the stop with the take-profit kept by the daemon where
   the venue has no lists: ``live_oco``);
4. the sell is sent.

Why the new exits before the sell: the position is without protection only from the cancels'
confirmation to the new exits' answer (one round trip), not also for the sell's; and never is more
reserved than is held: after step 2 nothing is, then the new exits reserve H - N, the sell N. The sell is
checked before step 1 (the risk check on the book as it will be, its amount at the market's precision
and above its minimum: ``LiveBroker.prepare``), so the exchange refusing it at step 4 is rare; when it
does, or the sell never reached it, the protection is put back (``put_back``): the new exits are
cancelled (confirmed), and exits for all that is held are placed again at the old levels, under client
ids derived from the sell's; the trader is told. An old exit that sold while its cancel was on its way
stops the sell (the position is not what the trader saw): it is not sent, and what is held gets its
exits back the same way.

**More than one set of exits** (two bracketed buys of one symbol): the sell frees what it needs from
the newest sets first (``bracket_sell.plan``): those it reaches are cancelled, the oldest of them is
replaced by exits for what it frees beyond the sell, at its own levels, and the sets it does not reach
keep working untouched; put back, each set gets its exits again at its own levels for what it covered.

**A take-profit that filled in part** (the exchange expired its stop at that fill, and the daemon has not
re-protected the rest yet: it waits while the price is at the take-profit, ``live_oco.reprotect``) is
replaced like any exit, by a pair at both old levels (the expired stop gives its level). The sell's
reason records what such an exit had sold when it was planned: only more than that is "an exit that
sold first". Should the daemon's re-protection cancel the rest first, its new pair is the position's
exits: the sell is not sent and nothing placed or put back beside that pair (never two sets); the
re-protection, for its part, leaves a take-profit alone while a sell by hand is cancelling it. A stop
that fired and is selling stays refused, and so do the exits of a buy still filling (they grow with its
fills): the refusal names the order and what to do (``why_not``).

A remainder under the exchange's minimum (notional or amount) can have no exits: the old ones are
cancelled, none placed, and it is said loudly (a warning, an ``exit_unplaced`` alert, the position shown
unprotected by ``mt positions``: ``unprotected.py``) and in the command's answer.

**A crash at any step** (kill -9) leaves journaled intents that the next start carries on from, as does
every poll for a step that could not finish (a cancel the exchange did not confirm), always by asking
the exchange by client order id, never resending blindly:

- a sell still an intent (``MARK``): within ``intent_max_age_s`` of being journaled, the steps carry on
  from where they stopped (a cancel already done is looked up, not asked again; new exits already
  journaled are found by their ids and sent once); older, it is rolled back: the sell is cancelled
  unsent, and the position keeps its exits (the old ones where they still rest, else exits placed again
  for what is held);
- a sell sent: it is resolved as any order is; the old exits' reason (``bracket_sell.pending``) stays
  until it has ended and then says what happened; a sell that ended refused or never received puts the
  protection back.

New exits are sent only once every old one is confirmed gone, and put-back exits only once the new ones
are: never two live exit sets. Fills are booked by the broker's one path (``_sync``) at every step.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Protocol

from mastertrade import errors
from mastertrade.db.models.trading import OrderRecord
from mastertrade.engine.execution import bracket_sell, exit_cancels, live_oco
from mastertrade.engine.execution.bracket_sell import Plan, names, pending
from mastertrade.engine.execution.unprotected import Unprotected, below_minimum
from mastertrade.engine.orders import IN_FLIGHT, OrderRequest, OrderState

log = logging.getLogger(__name__)

MARK = "a sell by hand replacing its position's exits"
"""How the reason of such a sell starts while it is an intent (what it replaces follows)."""
_MARKED = re.compile(r"\(orders? (?P<ids>[\d, ]+)\) by exits for (?P<keep>\S+) ")
_SOLD = re.compile(r"; order (?P<id>\d+) had sold (?P<sold>[^;\s]+)")


class Broker(exit_cancels.Broker, Protocol):
    """What these functions use of ``live.LiveBroker`` (a port: this module does not import it)."""

    clock: Any
    intent_max_age_s: float
    unprotected_parts: Unprotected

    def _lots(self, symbol: str, amount: float) -> float | None: ...
    async def resolve(self, row: OrderRecord, *, cancel_reason: str | None = None) -> list[Any]: ...
    async def prepare(self, request: OrderRequest) -> OrderRequest: ...


def marked(old: Sequence[OrderRecord], keep: float) -> str:
    """The sell's reason while it is an intent: the old exits, what the new ones keep, and what an
    exit had sold already (a take-profit filled in part): more than that is an exit selling first."""
    ids = ", ".join(str(row.id) for row in old)
    before = "".join(f"; order {row.id} had sold {row.filled!r}" for row in old if row.filled > 0)
    return (
        f"{MARK} (order{'s' if len(old) > 1 else ''} {ids}) by exits for {keep!r} "
        f"first: sent once they are replaced{before}"
    )


def _sold_before(sell: OrderRecord) -> dict[int, float]:
    """What each exit the sell replaces had sold when it was planned (``marked``)."""
    return {int(found["id"]): float(found["sold"]) for found in _SOLD.finditer(sell.reason or "")}


def is_marked(row: OrderRecord) -> bool:
    """A sell by hand whose exits are being replaced (still an intent): ``finish`` sends it."""
    return row.state == OrderState.INTENT and (row.reason or "").startswith(MARK)


def _parse(sell: OrderRecord) -> tuple[list[int], float]:
    found = _MARKED.search(sell.reason or "")
    if found is None:
        raise errors.OperationFailed(f"order {sell.id}: its reason does not name the exits it replaces")
    return [int(part) for part in found["ids"].split(",")], float(found["keep"])


def derived_ids(sell: OrderRecord, kind: str) -> tuple[str, str]:
    """Client ids of the stop and take-profit placed for ``sell`` (``kind``: "resize", the exits for
    what it leaves; "back", those put back), the same at every attempt."""
    ids = []
    for leg in ("stop", "take"):
        digest = hashlib.blake2b(f"{sell.client_order_id}:{kind}:{leg}".encode(), digest_size=16)
        ids.append(f"mt{digest.hexdigest()}")
    return ids[0], ids[1]


async def why_not(broker: Broker, plan: Plan) -> str | None:
    """Why a live position's exits cannot be replaced for a sell by hand now, or None: what is happening,
    naming the order, and what the trader can do (a command that works, and what it leaves)."""
    for row in plan.exits:
        if row.filled > 0 and await _expired_stop(broker, row) is None:
            role = (row.role or "exit").replace("_", "-")
            return (
                f"its {role} order {row.id} is selling the position ({row.filled:.8g} of "
                f"{row.amount or 0.0:.8g} sold so far): wait for it to end (`mt orders show {row.id}`), then "
                f"sell what it leaves; or stop it with `mt orders cancel {row.id} --unprotect` (what is held "
                "is then without a stop) and sell"
            )
        assert row.parent_id is not None
        entry = await broker.journal.get(row.parent_id)
        if not OrderState(entry.state).final:
            return (
                f"its buy order {entry.id} is still filling ({entry.filled:.8g} of {entry.amount or 0.0:.8g} "
                f"bought so far) and its exits ({names(plan.exits)}) grow with each fill, so they cannot be "
                f"replaced meanwhile: wait for order {entry.id} to fill (`mt orders show {entry.id}`), or "
                f"cancel the rest of it with `mt orders cancel {entry.id}` (its exits keep protecting what "
                "it bought), then sell"
            )
    return None


async def _expired_stop(broker: Broker, take: OrderRecord) -> OrderRecord | None:
    """The stop of the take-profit ``take`` that filled in part, which the exchange expired at that
    fill (one OCO list), while the daemon has not yet replaced the rest (``live_oco.reprotect``: it waits
    while the price is at the take-profit). A sell by hand then replaces the take-profit's rest like
    any exit, with a pair at both old levels; None for any other exit that sold in part (a stop that
    fired and is selling)."""
    if take.role != "take_profit" or take.oco is None or OrderState(take.state) not in IN_FLIGHT:
        return None
    siblings = await broker.journal.orders(book=broker.book, symbol=take.symbol)
    stop, _ = live_oco.legs([row for row in siblings if row.oco == take.oco and row.id != take.id])
    if stop is None or not exit_cancels.expired_with(stop, take):
        return None
    if await _found(broker, *live_oco.successor_ids(take)):
        return None  # re-protected already: the new pair is the position's exits
    return stop


async def sell(
    broker: Broker, request: OrderRequest, *, placed_ts: int, plan: Plan
) -> tuple[OrderRecord, str]:
    """Sell by hand, replacing the position's exits (see the module docstring). Returns the sell and
    what was done to the exits. The caller (``Account``) holds the sells' lock."""
    request = await broker.prepare(request)
    old = list(plan.exits)
    first = old[0]
    if first.parent_id is not None:  # said again below if what this sell leaves has no exits either
        await broker.unprotected_parts.clear(first.parent_id)
    # a take-profit the daemon keeps for a stop (a venue without OCO lists) goes with it
    linked = {(row.oco, row.parent_id) for row in old if row.oco is not None}
    known = {row.id for row in old}
    old += [
        row
        for row in await live_oco.held_exits(broker)
        if (row.oco, row.parent_id) in linked and row.id not in known
    ]
    # a take-profit that sold in part: its expired stop gives the new pair its stop level
    for row in list(old):
        stop = await _expired_stop(broker, row) if row.filled > 0 else None
        if stop is not None:
            old.insert(old.index(row) + 1, stop)
    row, _ = await broker.journal.create_order(
        broker.book, broker.mode, request, placed_ts=placed_ts, reason=marked(old, plan.keep)
    )
    assert row.id is not None
    async with broker._lock(row.id):
        return await carry_out(broker, await broker.journal.get(row.id))


async def carry_out(broker: Broker, sell: OrderRecord) -> tuple[OrderRecord, str]:
    """Steps 1 (the new exits' intents) to 4 for ``sell``, still an intent, from where they stopped;
    the caller holds its lock."""
    assert sell.id is not None
    sell_id = sell.id
    sell = await broker.journal.get(sell_id)
    if not is_marked(sell):  # a poll carried it on between its journal and its writer's lock
        return sell, f"the daemon's poll carried this sell out: `mt orders show {sell.id}` says how"
    ids, keep = _parse(sell)
    old = [await broker.journal.get(order_id) for order_id in ids]
    new, short = await _new_exits(broker, sell, _resized(old), keep)
    old = await _cancel(broker, old, pending(sell_id))
    if any(not OrderState(row.state).final for row in old):
        return sell, (
            f"its exits ({names(old)}) are not confirmed cancelled by the exchange yet: the sell waits, and "
            "the daemon carries on at its next poll"
        )
    taken = next((row for row in old if row.reason == live_oco.REPROTECT), None)
    if taken is not None:
        return await _left_to_reprotect(broker, sell, new, taken)
    before = _sold_before(sell)
    if any(row.filled > before.get(row.id or 0, 0.0) * (1 + 1e-9) for row in old):
        sold = next(row for row in old if row.filled > before.get(row.id or 0, 0.0) * (1 + 1e-9))
        sell = await broker.journal.transition(
            sell_id, OrderState.CANCELLED, reason=f"not sent: its exit order {sold.id} sold first"
        )
        return sell, await put_back(broker, sell, old, new, why=f"its exit order {sold.id} sold first")
    if short is not None and old[0].parent_id is not None:
        # noted once the old exits are gone: a poll meanwhile would find them covering the rest
        await broker.unprotected_parts.note(old[0].parent_id, sell.symbol, short, broker._emit)
    placed = await _place(broker, sell, new) if new else []
    refused = [row for row in placed if OrderState(row.state) is OrderState.REJECTED]
    if refused:
        short = (
            f"the exits for the {refused[0].amount:.8g} {sell.symbol} it leaves were refused "
            f"({refused[0].reason}): that rest has no exits at the exchange"
        )
    sell = await broker._send(sell)
    said = await settle(broker, sell, old, placed)
    if said is None:
        said = f"its exits ({names(old)}) were replaced; the sell's outcome is not known yet"
    return sell, f"{said}; {short}" if short else said


async def _left_to_reprotect(
    broker: Broker, sell: OrderRecord, new: Sequence[OrderRecord], take: OrderRecord
) -> tuple[OrderRecord, str]:
    """The daemon cancelled the rest of the take-profit ``take`` (filled in part) to re-protect it with
    a new pair (``live_oco.reprotect``) before this sell's cancel: that pair is the position's exits, so
    nothing is placed here (never two sets) and the sell is not sent (the position is not what the
    trader saw)."""
    assert sell.id is not None
    for row in new:
        assert row.id is not None
        if OrderState((await broker.journal.get(row.id)).state) is OrderState.INTENT:
            await broker.journal.transition(
                row.id, OrderState.CANCELLED, reason="its sell by hand was never sent"
            )
    why = (
        f"not sent: the daemon was replacing the rest of take-profit order {take.id} (filled in part) with "
        "a new pair"
    )
    sell = await broker.journal.transition(sell.id, OrderState.CANCELLED, reason=why)
    return sell, f"{why}, which protects the position; sell again once `mt orders` shows it"


def _in_order(sell: OrderRecord, rows: Sequence[OrderRecord]) -> list[OrderRecord]:
    """``rows`` in the order the sell's reason names them (the set resized first), where it still does
    (a refusal's reason replaces it), else oldest first."""
    found = _MARKED.search(sell.reason or "")
    named = [int(part) for part in found["ids"].split(",")] if found else []
    return sorted(rows, key=lambda row: (named.index(row.id) if row.id in named else len(named), row.id or 0))


def _resized(old: Sequence[OrderRecord]) -> list[OrderRecord]:
    """The set whose levels the new exits take: the first one the sell names (``bracket_sell.plan``)."""
    return [row for row in old if bracket_sell.set_key(row) == bracket_sell.set_key(old[0])]


async def _new_exits(
    broker: Broker, sell: OrderRecord, old: Sequence[OrderRecord], keep: float
) -> tuple[list[OrderRecord], str | None]:
    """The new exits' rows for ``keep`` (found by their ids, else journaled as intents), and why there are
    none when ``keep`` is under the exchange's minimum."""
    if not keep > 0:
        return [], None
    stop_id, take_id = derived_ids(sell, "resize")
    found = await _found(broker, stop_id, take_id)
    if found:
        return found, None
    return await _journal_like(broker, old, keep, stop_id, take_id, sell)


async def _found(broker: Broker, *client_ids: str) -> list[OrderRecord]:
    rows = []
    for client_id in client_ids:
        try:
            rows.append(await broker.journal.get(client_order_id=client_id))
        except errors.NotFound:
            continue
    return rows


async def _journal_like(
    broker: Broker,
    old: Sequence[OrderRecord],
    amount: float,
    stop_id: str,
    take_id: str,
    sell: OrderRecord,
) -> tuple[list[OrderRecord], str | None]:
    """Exits like ``old`` (their levels) for ``amount`` in whole lot steps, journaled as intents under
    ``stop_id``/``take_id``; none, with why, when the exchange takes no exit that small."""
    stop, take = live_oco.legs(list(old))
    first = stop or take or old[0]
    symbol = first.symbol
    lots = broker._lots(symbol, amount) or 0.0
    if not lots > 0:
        return [], None  # less than one lot step: nothing an exit could sell
    markets = await broker.venue.load_markets()
    price = first.price if first.price is not None else first.stop_price
    why = below_minimum(markets[symbol], lots, price)
    if why is not None:
        base = symbol.split("/")[0]
        message = (
            f"the {amount:.8g} {base} left of the {symbol} position have no exits at the exchange: {why} "
            f"(its exits were cancelled for the sell by hand of order {sell.id})"
        )
        return [], message
    requests = [
        exit_cancels.exit_like(row, lots, cid)
        for row, cid in ((stop, stop_id), (take, take_id))
        if row is not None
    ]
    journal = broker.journal
    if len(requests) == 2:
        pair = await journal.create_oco(
            broker.book,
            broker.mode,
            (requests[0], requests[1]),
            placed_ts=first.placed_ts,
            parent_id=first.parent_id,
        )
        return list(pair), None
    row, _ = await journal.create_order(
        broker.book, broker.mode, requests[0], placed_ts=first.placed_ts, parent_id=first.parent_id
    )
    return [row], None


async def _cancel(broker: Broker, rows: Sequence[OrderRecord], reason: str) -> list[OrderRecord]:
    """Cancel each of ``rows`` still working (an intent in the journal; at the exchange, journaled first
    and confirmed by a lookup by client id); returns them as they are now."""
    for row in rows:
        assert row.id is not None
        order_id = row.id
        row = await broker.journal.get(order_id)
        if OrderState(row.state).final:
            continue  # an OCO leg cancelled with its sibling (confirmed by its own lookup), or done
        try:
            await broker.cancel(order_id, reason)
        except errors.MasterTradeError as exc:  # not confirmed: the next poll carries on
            await broker._error(f"cancelling exit {row.client_order_id}: {exc}")
    return [await broker.journal.get(row.id) for row in rows if row.id is not None]


async def _place(broker: Broker, sell: OrderRecord, rows: list[OrderRecord]) -> list[OrderRecord]:
    """Send the journaled ``rows`` still intents (those already sent are resolved, never resent);
    returns them as they are now. A refusal is said loudly: what the sell leaves has no exits."""
    if all(OrderState(row.state) is OrderState.INTENT for row in rows):
        await live_oco.send_exits(broker, rows)
    else:
        for row in rows:
            if OrderState(row.state) in IN_FLIGHT:
                await broker.resolve(row)
    rows = [await broker.journal.get(row.id) for row in rows if row.id is not None]
    refused = [row for row in rows if OrderState(row.state) is OrderState.REJECTED]
    if refused and rows[0].parent_id is not None:
        symbol = rows[0].symbol
        await broker.unprotected_parts.note(
            rows[0].parent_id,
            symbol,
            f"the {rows[0].amount:.8g} {symbol} left by the sell by hand of order {sell.id} have no exits at "
            f"the exchange: {names(refused)} refused ({refused[0].reason})",
            broker._emit,
        )
    return rows


async def settle(
    broker: Broker, sell: OrderRecord, old: Sequence[OrderRecord], new: Sequence[OrderRecord]
) -> str | None:
    """Once ``sell`` has ended (or sold some): the old exits' reason says what happened, and a sell
    that sold nothing puts the protection back. None while its outcome is not known."""
    assert sell.id is not None
    state = OrderState(sell.state)
    if state in (OrderState.SENT, OrderState.UNKNOWN, OrderState.INTENT) and not sell.filled > 0:
        return None
    old = _in_order(sell, old)
    if sell.filled > 0 or state not in (OrderState.REJECTED, OrderState.CANCELLED):
        working = [row for row in new if OrderState(row.state) in (OrderState.INTENT, *IN_FLIGHT)]
        keep = (working[0].amount or 0.0) if working else 0.0
        ids = [row.id for row in working if row.id]
        resized = _resized(old)
        await _say(broker, resized, bracket_sell.sold_reason(sell.id, ids, keep, sell.symbol))
        others = [row for row in old if row not in resized]
        await _say(broker, others, bracket_sell.sold_reason(sell.id, ids, keep, sell.symbol, resized=False))
        return bracket_sell.note(old, working, keep, sell.symbol)
    return await put_back(broker, sell, old, new, why=f"the sell was refused ({sell.reason})")


async def put_back(
    broker: Broker, sell: OrderRecord, old: Sequence[OrderRecord], new: Sequence[OrderRecord], *, why: str
) -> str:
    """The sell by hand ``sell`` sold nothing (``why``): the position gets exits again at the old levels
    for what is held, once every exit of this sell is confirmed gone (never two sets); said loudly."""
    assert sell.id is not None
    head = pending(sell.id)
    gone = await _cancel(broker, [*old, *new], f"{head}, which sold nothing: its exits are put back")
    if any(not OrderState(row.state).final for row in gone):
        return (
            f"{why}; its exits are put back once the exchange confirms the others cancelled (the daemon's "
            "next poll)"
        )
    old = _in_order(sell, [row for row in gone if row.id in {o.id for o in old}])
    symbol = sell.symbol
    if any(row.reason == live_oco.REPROTECT for row in old):  # its new pair protects what is held
        return f"{why}: the daemon re-protects the position with a new pair ({names(old)} are replaced)"
    left = (await broker.ledger()).held(symbol)
    said, refused, short = [], [], None
    for index, group in enumerate(bracket_sell.sets(old)):  # each set for what it covered, while held
        cover = max((row.amount or 0.0) - row.filled for row in group)
        amount = min(left, cover) if cover > 0 else left
        if not amount > 0:
            continue
        left -= amount
        stop_id, take_id = derived_ids(sell, "back" if index == 0 else f"back{index}")
        back = await _found(broker, stop_id, take_id)
        unplaced = None
        if not back:
            back, unplaced = await _journal_like(broker, group, amount, stop_id, take_id, sell)
        if back:
            back = await _place(broker, sell, back)
        failed = [row for row in back if OrderState(row.state) is OrderState.REJECTED]
        refused += failed
        short = short or unplaced
        if unplaced is not None:
            said.append(unplaced)
        elif failed or not back:
            said.append(f"placing them again was refused ({failed[0].reason if failed else 'no answer'})")
        else:
            said.append(f"placed again for the {back[0].amount:.8g} {symbol} held as {names(back)}")
    done = "; ".join(said) if said else "nothing of the position is left to protect"
    message = f"{why}: {done}"
    await _say(broker, old, f"{head}: {message}")
    log.warning("sell by hand of order %s (%s): its exits %s: %s", sell.id, symbol, names(old), message)
    if refused or short is not None:
        entry = old[0].parent_id if old else None
        if entry is not None:
            await broker.unprotected_parts.note(entry, symbol, f"{symbol}: {message}", broker._emit)
    return f"its exits ({names(old)}) were cancelled for it, and {message}"


async def _say(broker: Broker, rows: Sequence[OrderRecord], reason: str) -> None:
    """Write what became of the replaced exits on those cancelled (one that sold keeps its state)."""
    for row in rows:
        assert row.id is not None
        order_id = row.id
        if OrderState((await broker.journal.get(order_id)).state) is OrderState.CANCELLED:
            await broker.journal.add_fills(order_id, [], OrderState.CANCELLED, reason=reason)


async def roll_back(broker: Broker, sell: OrderRecord) -> str:
    """A sell left an intent too long (the daemon stopped before it): not sent; the position keeps its
    old exits where they still rest, else exits for what is held are placed again."""
    assert sell.id is not None
    ids, keep = _parse(sell)
    old = [await broker.journal.get(order_id) for order_id in ids]
    for row in old:
        if OrderState(row.state) in IN_FLIGHT:
            await broker.resolve(row)  # the exchange's word on each, by client id
    old = [await broker.journal.get(order_id) for order_id in ids]
    new = await _found(broker, *derived_ids(sell, "resize"))
    untouched = all(
        OrderState(row.state).working or OrderState(row.state) is OrderState.INTENT for row in old
    )
    if untouched and all(OrderState(row.state) is OrderState.INTENT for row in new):
        for row in new:
            assert row.id is not None
            await broker.journal.transition(
                row.id, OrderState.CANCELLED, reason="its sell by hand was never sent"
            )
        await broker.journal.transition(
            sell.id, OrderState.CANCELLED, reason="stale intent: never sent; its position keeps its exits"
        )
        return "never sent; its position keeps its exits"
    await broker.journal.transition(sell.id, OrderState.CANCELLED, reason="stale intent: never sent")
    return await put_back(broker, sell, old, new, why="the daemon stopped before the sell was sent")


async def finish(broker: Broker) -> list[str]:
    """At a start and every poll: sells by hand left half done (see the module docstring), each under its
    lock (skipped while its writer is at it). Returns their client ids."""
    journal = broker.journal
    done = []
    stale_before = broker.clock() - timedelta(seconds=broker.intent_max_age_s)
    for row in await journal.orders(book=broker.book, states=[OrderState.INTENT], reason_prefix=MARK):
        assert row.id is not None
        if broker._lock(row.id).locked():
            continue
        try:
            async with broker._lock(row.id):
                row = await journal.get(row.id)
                if not is_marked(row):
                    continue
                if row.created_at >= stale_before:
                    await carry_out(broker, row)
                else:
                    await roll_back(broker, row)
        except errors.MasterTradeError as exc:  # the next poll tries again
            await broker._error(f"finishing the sell by hand of order {row.id}: {exc}")
            continue
        done.append(row.client_order_id)
    waiting: dict[int, list[OrderRecord]] = {}
    for row in await journal.orders(
        book=broker.book, states=[OrderState.CANCELLED], reason_prefix=bracket_sell.SOLD_BY_HAND
    ):
        said = (row.reason or "").removeprefix(bracket_sell.SOLD_BY_HAND)
        if said.isdigit():  # exactly ``pending``: its sell has not ended yet
            waiting.setdefault(int(said), []).append(row)
    for sell_id, old in waiting.items():
        if broker._lock(sell_id).locked():
            continue
        try:
            async with broker._lock(sell_id):
                sell_row = await journal.get(sell_id)
                if OrderState(sell_row.state) is OrderState.INTENT:
                    continue
                new = await _found(broker, *derived_ids(sell_row, "resize"))
                if await settle(broker, sell_row, old, new) is not None:
                    done.append(sell_row.client_order_id)
        except errors.MasterTradeError as exc:
            await broker._error(f"settling the exits of the sell by hand of order {sell_id}: {exc}")
    return done
