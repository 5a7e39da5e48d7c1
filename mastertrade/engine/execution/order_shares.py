"""Whose coins a sell by hand sells, when it sells several owners' at once: the order's shares.

A strategy's share of the account is a fold over the fills of its own orders (``Journal.strategy_ledger``).
A sell by hand that takes the coins of several owners (the account's own, and strategies' positions that
no exit order reserves: ``watched_sell``) is one order at the exchange, but its coins are theirs: booked
as the account's own, every strategy whose coins it sold kept counting them, and the strategies'
positions added up to more than the account held.

So such a sell carries its shares (``OrderRequest.shares``, journaled with its intent as
``orders.shares``): each owner (None: the account's own) and the amount it gives, in the order the sell
takes them and its answer names them (the account's own first, then the strategies by id: ``allocate``).
Its fills are shared out in that same order as they come (``parts``): a partial fill gives the first
owners their share first; each part carries its share of the fill's fees, so the fees and the realised
P&L of each part are its owner's. Nothing else is stored: the strategies' positions are recomputed from
the fills and the shares on every read, and so after a restart too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
