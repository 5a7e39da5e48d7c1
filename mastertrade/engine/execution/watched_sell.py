"""A sell by hand beside strategies' positions that no exit order reserves.

A strategy's exits reserve its coins where they rest: at the exchange (``[execution] native_stops``) or
in the paper book. A sell by hand then finds them taken, and its exits are replaced for it
(``bracket_sell``; a live strategy's by its protection, ``Protector.sell_taking_back``). Where nothing
rests for them (``native_stops`` off: the daemon alone watches the stop-loss and take-profit; a venue
without native stops; a strategy without a stop), nothing reserved them, so a sell by hand took them
first: beside a buy bracketed by hand, the hand-placed exits kept covering the account's own coins while
the sell sold the strategy's, and a sell of the strategy's position said nothing of it.

``Account.plan_sell`` now counts such a position as its strategy's, as if its exits rested:

- the account's own coins are what is held less the strategies' positions: a sell of them replaces the
  hand-placed exits for what it leaves, as beside resting strategy exits;
- beside hand-placed exits, a sell reaching past the account's own coins is refused, naming the
  strategy's position (``holder``) and the two commands that sell as much (``Account._beyond_own``);
- without them, the sell goes (the account's own coins first, then the strategies' by id) and the
  answer says what it takes of each strategy's position and what its protection still watches
  (``taken``), as the resting exits' path names the exits it takes back and places again. It is booked
  the same way: as the one strategy's it takes coins of alone, else with each owner's share
  (``order_shares``), so each position drops by what the answer says it took.

A sell that takes strategies' exits back at the exchange (``Protector.sell_taking_back``) or replaces
their paper exits (``bracket_sell``) beside other owners' coins says each one's share the same way
(``taken`` with ``exits``), before what became of their exits, and is booked by those shares.
"""

from __future__ import annotations

from collections.abc import Sequence

from mastertrade.engine.execution import order_shares

NO_EXITS = "(none rests at the exchange)"


def holder(strategy_id: str, amount: float, base: str, *, watched: bool) -> str:
    """ "strategy s1 holds 0.125 BTC, its exits kept by the daemon (none rests at the exchange)";
    ``watched`` false: a position without a protection (no stop-loss or take-profit)."""
    how = f"its exits kept by the daemon {NO_EXITS}" if watched else "without exit orders"
    return f"strategy {strategy_id} holds {amount:.8g} {base}, {how}"


def taken(
    positions: Sequence[tuple[str, float]],
    own: float,
    amount: float,
    symbol: str,
    *,
    watched: bool = False,
    exits: str | None = None,
) -> str | None:
    """What a sell of ``amount`` takes of the strategies' ``positions`` (id, what it holds) once the
    account's ``own`` coins are sold; None when it takes nothing of them. It takes them in the order
    given, and names each one's share: the shares it is booked by (``order_shares.allocate``;
    ``Account._attributed`` books a sell reaching one of them only as that strategy's). ``watched``:
    their protection is kept by the daemon (live), which watches what the sell leaves. ``exits``: their
    exits rest and the sell takes them back or replaces them (``"whose exits it takes back"``), which
    the caller says after: nothing is said of each one's protection."""
    take = amount - max(own, 0.0)
    total = sum(share for _, share in positions)
    if not positions or take <= total * 1e-9:
        return None
    after = f" (after the account's own {own:.8g})" if own > total * 1e-9 else ""
    holds = dict(positions)
    shares = [  # (id, what it holds, what the sell takes of it)
        (sid, holds[sid], took)
        for sid, took in order_shares.allocate([(None, max(own, 0.0)), *positions], amount)
        if sid is not None
    ]
    if not shares:
        return None
    if len(shares) > 1:
        whose = ", ".join(f"{sid} ({share:.8g})" for sid, share in positions)
        each = ", ".join(
            _share(sid, share, took, "")
            + ("" if exits is not None else f" ({_rest(share, took, watched=watched)})")
            for sid, share, took in shares
        )
        which = exits if exits is not None else f"which no exit order reserves {NO_EXITS}"
        return (
            f"the sell takes {take:.8g} of the {total:.8g} {symbol} held by strategies {whose}{after}, "
            f"{which}, in that order: {each}"
        )
    [(sid, share, took)] = shares
    said = f"the sell takes {_share(sid, share, took, f' {symbol}')}{after}"
    return said if exits is not None else f"{said}; {_rest(share, took, watched=watched)}"


def _share(strategy_id: str, share: float, took: float, symbol: str) -> str:
    """ "0.09 of strategy s1's 0.125 BTC/USDT", "all of strategy s1's 0.125" (``symbol`` empty)."""
    part = "all" if share - took <= share * 1e-9 else f"{took:.8g}"
    return f"{part} of strategy {strategy_id}'s {share:.8g}{symbol}"


def _rest(share: float, took: float, *, watched: bool) -> str:
    """What becomes of a position the sell took ``took`` of."""
    left = share - took
    if left <= share * 1e-9:
        return "its protection ends with the position" if watched else "its position ends with it"
    if watched:
        return f"its protection, kept by the daemon {NO_EXITS}, watches the {left:.8g} left"
    return f"it keeps {left:.8g}, without exit orders"
