"""A sell by hand of a position that its bracket exits hold (a buy placed with ``--stop-loss`` and/or
``--take-profit``): the exits are replaced for what the sell leaves, never refused and never dropped.

A bracket's exits reserve what they sell: a stop-loss and a take-profit of one position sell the same
coins (one OCO list at the exchange, one one-cancels-other group on paper), so a sell by hand finds
nothing free. Before, a whole sell of a paper position cancelled the exits and sold; a live one, and any
partial sell, was refused with the commands that cancel the exits first, which left the position without
protection between two commands. Now, on the one door both books share (``Account.send``):

- **a whole sell** cancels the exits and sells;
- **a partial sell** of N of the H held resizes the exits to what is left (H - N, never more than they
  covered), at their levels: the old ones are cancelled, new ones placed for the rest, the sell sent;
- **a refused sell** leaves the position protected as it was (paper: nothing is touched; live: the
  exits are placed again for what is held, ``live_bracket_sell``), and the trader is told.

The risk check sees the book as it will be once the exits are replaced (``Plan.released``): the sell is
checked before any exit is touched, so a sell the limits refuse leaves the exits alone.

Paper books do it in one journal transaction (``Journal.sell_replacing``): a crash leaves all of it or
none. Live, the exchange is in between; how the steps are ordered and how a crash is finished or rolled
back is ``live_bracket_sell``'s docstring.

**A sell that ends without selling** (cancelled by hand, or by the book) gives the coins back, and with
them their exits: live, ``live_bracket_sell.put_back`` (and the strategies' protections) place them again;
paper, ``paper_put_back`` puts back each set it replaced at its levels, for what it covered, never more
than its owner then holds (``put_back``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mastertrade.db.models.trading import OrderRecord
from mastertrade.engine.execution import order_shares

BRACKET_EXITS = frozenset({"stop_loss", "take_profit", "trailing_stop"})
"""The roles of a bracket's exits, which a sell by hand replaces."""
SOLD_BY_HAND = "replaced for the sell by hand of order "
"""How the reason of an exit replaced for a sell by hand starts (the sell's id follows)."""


@dataclass(frozen=True)
class Plan:
    """What a sell by hand does to its position's exits: ``exits`` (working: the sets it touches, the
    one resized first) reserve ``reserved`` of the ``held``; the new exits protect ``keep`` (0: those
    sets are cancelled, none placed) at the levels of the first set. ``by_protection``: the exits are a
    live strategy's, kept by the daemon's protection (``Protector.sell_taking_back``), which takes them
    back for the sell and places them again itself for what is left. ``watched``: strategies' positions
    in the symbol that no exit order reserves (``watched_sell``), each with what it holds; a plan
    without ``exits`` only says what the sell takes of them (its ``held``: what no exit order reserves).
    ``owners``: whose coins the sell takes, in the order it takes them, each with what it holds (None,
    the account's own, first): the shares a sell by hand of several owners' coins is booked by
    (``order_shares``); empty: the sell is the account's own, or the one strategy's it is booked as."""

    exits: tuple[OrderRecord, ...]
    held: float
    reserved: float
    keep: float
    by_protection: bool = False
    watched: tuple[tuple[str, float], ...] = ()
    owners: tuple[tuple[str | None, float], ...] = ()

    @property
    def released(self) -> float:
        """What the replacement frees for the sell."""
        return max(0.0, self.reserved - self.keep)


def set_key(row: OrderRecord) -> str:
    """The exit set ``row`` belongs to: its one-cancels-other group, or itself."""
    return f"oco:{row.oco}" if row.oco else f"order:{row.id}"


def sets(exits: Sequence[OrderRecord]) -> list[list[OrderRecord]]:
    """``exits`` grouped by set (``set_key``), in the order each set first appears."""
    groups: dict[str, list[OrderRecord]] = {}
    for row in exits:
        groups.setdefault(set_key(row), []).append(row)
    return list(groups.values())


def reserved_by(exits: Sequence[OrderRecord]) -> float:
    """What ``exits`` reserve: each one-cancels-other group once (its legs sell the same coins)."""
    return sum(max((row.amount or 0.0) - row.filled for row in group) for group in sets(exits))


def plan(exits: Sequence[OrderRecord], held: float, amount: float, owner: str | None = None) -> Plan | None:
    """The plan for a sell of ``amount`` of the ``held`` whose working sells are all ``exits``; None
    when the sell fits beside them (what they do not reserve is free).

    With more than one set (two bracketed buys of one symbol), the sell takes what is free first, then
    the newest sets, whole, until they free enough; the oldest of those it touches is resized to what it
    frees beyond the sell (a whole sell cancels them all), the others are cancelled, and the sets it
    does not reach keep working untouched: every coin still held stays covered as it was, and nothing
    is reserved twice.

    The sets of the sell's ``owner`` (None: the account's own, a buy bracketed by hand; else that
    strategy's) go first, whatever their age: a sell by hand of the account's own coins beside a paper
    strategy's position resized the strategy's exits when its entry was the newer one, and left the
    hand-placed exits covering coins already sold, each owner's levels on the other's coins."""
    reserved = reserved_by(exits)
    free = held - reserved
    if amount <= free * (1 + 1e-9):
        return None
    whole = abs(amount - held) <= held * 1e-9 or amount >= held
    oldest_first = sets(sorted(exits, key=lambda row: row.id or 0))
    oldest_first.sort(key=lambda group: group[0].strategy_id == owner)  # stable: by age within each
    touched: list[list[OrderRecord]] = []
    freed = 0.0
    need = amount - free  # (free < 0: exits reserving more than is held, a fee taken from the coins)
    for group in reversed(oldest_first):  # the owner's newest set first
        touched.append(group)
        freed += reserved_by(group)
        if not whole and freed >= need * (1 - 1e-9):
            break
    keep = 0.0 if whole else max(0.0, min(freed, freed - need))
    ordered = tuple(row for group in reversed(touched) for row in group)  # the one resized first
    return Plan(ordered, held, freed, keep)


def strategies_taken(exits: Sequence[OrderRecord]) -> list[str]:
    """The strategies whose exit sets a plan's ``exits`` (in the plan's order: the set resized first)
    belong to, in the order the sell takes their coins: the newest set's first, the one resized last
    (what the sell leaves is that strategy's)."""
    taken: list[str] = []
    for group in reversed(sets(exits)):
        owner = group[0].strategy_id
        if owner is not None and owner not in taken:
            taken.append(owner)
    return taken


def names(rows: Sequence[OrderRecord]) -> str:
    """ "order 7 (stop-loss), order 8 (take-profit)"."""
    return ", ".join(f"order {row.id} ({(row.role or 'exit').replace('_', '-')})" for row in rows)


def pending(sell_id: int) -> str:
    """The reason of an exit replaced for the sell by hand ``sell_id`` until that sell has ended (live:
    ``live_bracket_sell`` finishes what is left with it after a crash)."""
    return f"{SOLD_BY_HAND}{sell_id}"


def sold_reason(sell_id: int, new: Sequence[int], keep: float, symbol: str, *, resized: bool = True) -> str:
    """The reason of an exit replaced for the sell by hand ``sell_id`` once it went (``new``: its
    successors, none for a whole sell; ``resized`` false: an exit of another set, which the sell took
    whole while ``new`` keep the rest)."""
    if not new:
        return f"{pending(sell_id)}: cancelled with its position"
    ids = " and ".join(str(order_id) for order_id in new)
    orders = f"order{'s' if len(new) > 1 else ''} {ids}"
    if not resized:
        return f"{pending(sell_id)}: cancelled, the sell took what it covered ({orders} keep the rest)"
    return f"{pending(sell_id)}: resized to {keep:.8g} {symbol} as {orders}"


_RESIZED_AS = re.compile(r": resized to \S+ \S+ as orders? (?P<ids>\d+(?: and \d+)*)$")


def replacing_sell(reason: str | None) -> int | None:
    """The sell by hand that replaced a paper exit whose reason is ``sold_reason``'s, which it may still
    put back (``paper_put_back``); None for any other reason (one put back says so: ``put_back_reason``)."""
    if reason is None or not reason.startswith(SOLD_BY_HAND):
        return None
    head, colon, _ = reason.removeprefix(SOLD_BY_HAND).partition(": ")
    return int(head) if colon and head.isdigit() else None


def successors(reason: str | None) -> list[int]:
    """The exits placed for what a paper sell by hand left of the set it resized, as the reason of an exit
    of that set names them (``sold_reason``); none for another reason."""
    found = _RESIZED_AS.search(reason or "")
    return [int(part) for part in found["ids"].split(" and ")] if found else []


def put_back_reason(sell_id: int, why: str, said: str) -> str:
    """The reason of a paper exit replaced for the sell by hand ``sell_id`` once that sell ended without
    selling all it was to (``why``) and the exits were put back (``said``)."""
    return f"{pending(sell_id)}, which ended without selling them ({why}): {said}"


def put_back(
    old: Sequence[OrderRecord],
    later: Sequence[OrderRecord],
    left: Mapping[str | None, float],
    room: float,
) -> list[tuple[list[OrderRecord], list[OrderRecord], float]]:
    """The exits a paper sell by hand replaced (``old``) put back once it ended without selling: each of
    their sets, oldest first, with the rows whose levels its new exits take and the amount they are
    placed for: what it covered, never more than its owner has ``left`` (what it holds beside its other
    sells: its other exits, its exit signal's sell, its parts of other sells by hand) nor than the
    ``room`` no working sell reserves (0: nothing to put back). The levels are the set's own, or, for the
    set it resized, those of the exits placed for what it left (``later``, by type: a trailing stop may
    have moved up since)."""
    left = dict(left)
    newer = {row.id: row for row in later}
    out: list[tuple[list[OrderRecord], list[OrderRecord], float]] = []
    for group in sets(sorted(old, key=lambda row: row.id or 0)):
        owner = group[0].strategy_id
        cover = reserved_by(group)
        amount = max(0.0, min(cover, left.get(owner, 0.0), room))
        if not amount > cover * order_shares.TOLERANCE:
            amount = 0.0
        left[owner] = left.get(owner, 0.0) - amount
        room -= amount
        named = [newer[i] for row in group for i in successors(row.reason) if i in newer]
        levels = [next((new for new in named if new.type == row.type), row) for row in group]
        out.append((group, levels, amount))
    return out


def note(old: Sequence[OrderRecord], new: Sequence[OrderRecord], keep: float, symbol: str) -> str:
    """What the trader is told of the exits of a sell by hand that went (``old`` in the plan's order:
    the set resized first)."""
    if not new:
        return f"its exits were cancelled: {names(old)}"
    first, *others = sets(old)
    said = f"its exits {names(first)} were resized to {keep:.8g} {symbol}: {names(new)}"
    if others:
        said += f"; {names([row for group in others for row in group])} were cancelled"
    return said
