"""Whose coins a sell by hand sells, when it sells several owners' at once: the order's shares.

A strategy's share of the account is a fold over the fills of its own orders (``Journal.strategy_ledger``).
A sell by hand that takes the coins of several owners (the account's own, and strategies' positions: those
no exit order reserves, ``watched_sell``; those whose exits rest at the exchange, taken back for it,
``Protector.sell_taking_back``; those whose paper exits it replaces, ``bracket_sell``) is one order at the
exchange, but its coins are theirs: booked as the account's own, every strategy whose coins it sold kept
counting them, and the strategies' positions added up to more than the account held.

So such a sell carries its shares (``OrderRequest.shares``, journaled with its intent as
``orders.shares``): each owner (None: the account's own) and the amount it gives, in the order the sell
takes them and its answer names them (``allocate``; ``bracket_sell.Plan.owners``: the account's own
first, then the strategies by id, or those whose paper exit sets it takes in the order it takes them).
Its fills are shared out in that same order as they come (``parts``): a partial fill gives the first
owners their share first; each part carries its share of the fill's fees, so the fees and the realised
P&L of each part are its owner's. Nothing else is stored: the strategies' positions are recomputed from
the fills and the shares on every read, and so after a restart too.

A sell by hand still on its way (a paper market sell until the next bar, a live limit sell resting) has
not taken its coins yet, but they are promised: ``pending`` says what it will still take of each owner
(its shares' parts of what is left to fill; a sell without shares all of its ``strategy_id``'s). The next
sell by hand shares out what they leave (``Account.plan_sell``), so two sells together never take more of
an owner than it holds, and a strategy's exits placed again beside such a sell cover only what it keeps
(``Protector._rest``), and its own exit (its exit signal's sell, its protection's) sells only that
(``Account.strategy_to_sell``). A sell that ends without its coins (cancelled, expired, rejected) promises
nothing any more: they are their owners' again, and so are the exits it replaced (paper:
``paper_put_back``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from mastertrade.db.models.trading import OrderRecord

Share = tuple[str | None, float]
"""An owner (a strategy id; None for the account's own coins) and the amount of the sell that is its."""

TOLERANCE = 1e-9
"""A share, or a rest, below this fraction of the amount in question is a float residue, not coins."""


def allocate(owners: Sequence[Share], amount: float) -> tuple[Share, ...]:
    """What a sell of ``amount`` takes of each owner's coins (``owners``: each with what it holds, in the
    order the sell takes them), leaving out the owners it does not reach. A sell of more than they hold
    together is shared up to what they hold (the fills beyond it are the account's own: ``parts``)."""
    total = sum(held for _, held in owners)
    taken: list[Share] = []
    left = amount
    for owner, held in owners:
        if left <= total * TOLERANCE:
            break
        take = min(max(held, 0.0), left)
        if take > total * TOLERANCE:
            taken.append((owner, take))
        left -= take
    return tuple(taken)


def parts(shares: Sequence[Share], before: float, amount: float) -> list[Share]:
    """A fill of ``amount`` of an order with ``shares``, after ``before`` of it had filled, shared out:
    each owner's part of it, in the order of the shares (a fill reaching past them all gives the rest to
    the account's own, None). A part that is only the float residue of the sums is none."""
    out: list[Share] = []
    start, end = before, before + amount
    at = 0.0
    for owner, share in shares:
        low, high = max(start, at), min(end, at + share)
        if high - low > amount * TOLERANCE:
            out.append((owner, high - low))
        at += share
    rest = end - max(start, at)
    if rest > amount * TOLERANCE:
        out.append((None, rest))
    return out


def as_json(shares: Sequence[Share]) -> list[dict[str, Any]] | None:
    """The shares as ``orders.shares`` keeps them and the API shows them (None: no shares)."""
    if not shares:
        return None
    return [{"strategy_id": owner, "amount": amount} for owner, amount in shares]


def of_json(value: Sequence[dict[str, Any]] | None) -> tuple[Share, ...]:
    """The shares ``as_json`` stored."""
    return tuple((item.get("strategy_id"), float(item["amount"])) for item in value or ())


def pending(sells: Iterable[OrderRecord]) -> dict[str | None, float]:
    """What the sells by hand on their way (``sells``: not final) will still take of each owner (None: the
    account's own): each one's shares' parts of what it has left to fill (``parts``), or all of that its
    ``strategy_id``'s when it has no shares."""
    out: dict[str | None, float] = {}
    for row in sells:
        amount = row.amount or 0.0
        left = amount - row.filled
        if not left > amount * TOLERANCE:
            continue
        shares = of_json(row.shares) or ((row.strategy_id, amount),)
        for owner, part in parts(shares, row.filled, left):
            out[owner] = out.get(owner, 0.0) + part
    return out
