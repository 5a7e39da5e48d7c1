"""The paper exits a sell by hand replaced (``bracket_sell``), put back once that sell ends without selling
all it was to: cancelled by hand (``mt orders cancel``), or by the book at a fill (the position smaller
than the sell).

The sell had cancelled the exit sets it reached and placed exits for what it left: a buy bracketed by hand
then had none, a strategy's position exits for part of it. Those stayed so once the sell was cancelled,
the coins it had promised without a paper stop (a buy by hand's for good, a strategy's until its next
exit signal), while live the exits are placed again at once (``live_bracket_sell.put_back``, the
strategies' protections). Now each set the sell replaced is put back at its levels (those of the exits
placed for what it left, for the set it resized: a trailing stop may have moved up) for what it covered,
never more than its owner then holds beside its other sells (``bracket_sell.put_back``): a strategy
whose exit signal sold what the sell left it meanwhile gets exits for what it still holds, and its next
exit signal sells them.

The journal is the only memory: the exits replaced name their sell in their reason (``sold_reason``) until
they are put back, which rewrites it (``put_back_reason``) in the same transaction that cancels the
exits placed for what the sell left and places the new ones (``Journal.put_back_exits``). So a restart
while the sell rests finds them when it ends, and one between its end and the put back (a crash) puts
them back at the start (``waiting``). The paper broker does it under its matching lock, as every change
to its book.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from mastertrade.db.models.trading import OrderRecord
from mastertrade.engine.execution import bracket_sell, order_shares
from mastertrade.engine.execution.journal import Journal
from mastertrade.engine.orders import OrderState

log = logging.getLogger(__name__)


def ended_short(sell: OrderRecord) -> bool:
    """A sell by hand that ended without selling all it was to: the exits it replaced come back."""
    state = OrderState(sell.state)
    return (
        sell.role == "order" and sell.side == "sell" and state in (OrderState.CANCELLED, OrderState.REJECTED)
    )


async def waiting(journal: Journal, book: str) -> list[int]:
    """The sells by hand of ``book`` whose replaced exits are not put back yet (``replacing_sell``)."""
    rows = await journal.orders(
        book=book, states=[OrderState.CANCELLED], reason_prefix=bracket_sell.SOLD_BY_HAND
    )
    return sorted({sid for row in rows if (sid := bracket_sell.replacing_sell(row.reason)) is not None})


async def put_back(
    journal: Journal, book: str, sell: OrderRecord, held: float, working: Iterable[OrderRecord]
) -> tuple[list[OrderRecord], list[OrderRecord]]:
    """Put back the exits ``sell`` (ended short: ``ended_short``) replaced, beside the book's ``working``
    orders, ``held`` being what the book holds of its symbol (see the module docstring). Returns the exits
    cancelled (those placed for what it left) and the new ones; nothing when it replaced none, or they are
    put back already."""
    assert sell.id is not None
    symbol = sell.symbol
    found = await journal.orders(
        book=book, states=[OrderState.CANCELLED], reason_prefix=bracket_sell.pending(sell.id), symbol=symbol
    )
    old = [row for row in found if bracket_sell.replacing_sell(row.reason) == sell.id]
    if not old:
        return [], []
    named = {order_id for row in old for order_id in bracket_sell.successors(row.reason)}
    later = [await journal.get(order_id) for order_id in sorted(named)]
    replaced = [row for row in later if OrderState(row.state).working]
    gone = {row.id for row in replaced}
    sells = [
        row
        for row in working
        if row.symbol == symbol
        and row.side == "sell"
        and row.state is not OrderState.INTENT
        and row.id not in gone
        and row.id != sell.id
    ]
    left = await _left(journal, book, symbol, held, sells)
    room = held - bracket_sell.reserved_by(sells)
    sets = bracket_sell.put_back(old, later, left, room)
    why = f"{OrderState(sell.state).value}: {sell.reason}" if sell.reason else OrderState(sell.state).value

    def reason(new: Sequence[OrderRecord]) -> str:
        said = (
            f"put back for {new[0].amount:.8g} {symbol} as {bracket_sell.names(new)}"
            if new
            else "not put back: what they covered is no longer held beside the other sells"
        )
        return bracket_sell.put_back_reason(sell.id or 0, why, said)

    cancelled, new = await journal.put_back_exits(
        replaced,
        sets,
        reason=reason,
        replaced_reason=f"the sell by hand of order {sell.id} ended without selling: its exits are put back",
        placed_reason=f"put back: the sell by hand of order {sell.id} ended without selling ({why})",
    )
    log.warning(
        "sell by hand of order %s (%s) ended without selling (%s): the exits it replaced (%s) are %s",
        sell.id,
        symbol,
        why,
        bracket_sell.names(old),
        f"put back as {bracket_sell.names(new)}" if new else "not put back: nothing left to protect",
    )
    return cancelled, new


async def _left(
    journal: Journal, book: str, symbol: str, held: float, sells: list[OrderRecord]
) -> dict[str | None, float]:
    """What each owner of ``symbol`` in ``book`` (None: the account's own) holds beside its ``sells``
    working: its exits (each set once), its exit signal's sell, its parts of the sells by hand."""
    ledgers = await journal.strategy_ledgers(book)
    holds: dict[str | None, float] = {}
    for sid, ledger in ledgers.items():
        share = min(ledger.open_amount(symbol), held)
        if share > 0:
            holds[sid] = share
    holds[None] = max(held - sum(holds.values()), 0.0)
    by_hand = order_shares.pending(row for row in sells if row.role == "order")
    owners: dict[str | None, list[OrderRecord]] = {}
    for row in sells:
        if row.role != "order":
            owners.setdefault(row.strategy_id, []).append(row)
    return {
        owner: share - by_hand.get(owner, 0.0) - bracket_sell.reserved_by(owners.get(owner, []))
        for owner, share in holds.items()
    }
