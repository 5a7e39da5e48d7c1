"""Dust: what a live position leaves that no sell at the exchange can take.

An exchange takes a sell of whole lot steps only, of at least its minimum amount and worth at least its
minimum notional (Binance's ``LOT_SIZE`` and ``NOTIONAL`` filters: 0.00001 BTC and 5 USDT on BTC/USDT). A
full exit can leave less than one step behind: at an exchange taking a buy's fee in the coin bought
(Binance without BNB), an entry of 0.125 BTC brings in 0.124875, and its exit sells 0.12487, leaving
0.000005. That remainder stayed the strategy's open position: every later exit signal tried to sell it and
was refused (an error, a refused order in the risk audit, an alert, at every signal), its protection kept
guarding it, its round trip never closed, and, the strategy counting as long, its entry signals were
ignored for ever.

What a trader expects: the exit sold everything that could be sold, so the trade is over. A live sell's
last fill keeps the least amount the exchange takes in one order (``FillRecord.minimum``: its lot step or
its minimum amount, whichever is larger; not the sell's earlier fills, between which less may be left and
then sold), and a position the sell leaves under it closes its round trip (``Ledger.apply``), as a float
remainder does on paper (``ledger.DUST``). The strategy is flat: its exit signals sell nothing, its
protection closes saying what is left (said once: its close reason, in the risk audit, ``mt risk audit``,
and the daemon log; a strategy without one warns in the log), and its next entry signal buys again. The dust
is not lost or handed to anyone: it stays in the balance (``mt balance``), in the equity at its price and
in the strategy's share of what is held (the strategies' positions and the account's own still add up to
what is held), at no cost (the trade that left it is charged its cost, as a fee is); the strategy's next
position takes it in, and its next exit sells it with the rest. The account's own position closes the same
way when all it holds of the symbol is such dust (``mt positions`` no longer lists it).

A rest of whole lot steps worth less than the minimum notional is not dust: a higher price makes it
sellable, and it stays a position (``mt positions`` shows it, without exits at the exchange:
``unprotected``). What no sell can take now, that or dust no fill marked (a journal from before the fills
kept the minimum, an entry that brought in less than one order), the strategy's exit does not send: it
says so once (``unsellable``), instead of a refused sell at every exit signal.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mastertrade.engine.execution import venue_steps
from mastertrade.engine.execution.ledger import DUST, MINIMUM_HAIR, Ledger, split_symbol


def minimum(exchange: Any, symbol: str) -> float | None:
    """The least amount of ``symbol`` the exchange takes in one order at any price: its lot step or its
    minimum amount, whichever is larger; None when its market gives neither."""
    market = (exchange.markets or {}).get(symbol) or {}
    found: list[float] = []
    step = venue_steps.step_of(exchange, market, "amount")
    if step is not None:
        found.append(float(step))
    least = ((market.get("limits") or {}).get("amount") or {}).get("min")
    if least is not None:
        found.append(float(least))
    return max(found) if found else None


def unsellable(exchange: Any, symbol: str, amount: float, price: float) -> bool:
    """Whether a sell of ``amount`` (cut to whole lot steps, as the live broker sends it) is less than the
    exchange takes in one order at ``price`` (its ``minimum``, its minimum notional): refused before it is
    sent."""
    whole = venue_steps.whole_steps(exchange, symbol, amount)
    least = minimum(exchange, symbol)
    if not whole > 0 or (least is not None and whole < least * (1 - MINIMUM_HAIR)):
        return True
    market = (exchange.markets or {}).get(symbol) or {}
    least_cost = ((market.get("limits") or {}).get("cost") or {}).get("min")
    return least_cost is not None and whole * price < float(least_cost)


def left(ledger: Ledger, symbol: str) -> float:
    """What ``ledger`` (a strategy's share of the account, or the account's) holds of ``symbol`` once its
    round trip closed: dust no sell can take (0 while its position is open, or when what is left is only
    a float remainder, ``ledger.DUST``)."""
    position = ledger.positions.get(symbol)
    if position is None or position.opened_ts is not None:
        return 0.0
    return position.amount if position.amount > DUST * position.peak_amount else 0.0


def said(amount: float, symbol: str) -> str:
    """The words for ``amount`` of dust of ``symbol`` a sell left: what it is and what becomes of it (see
    the module docstring)."""
    base, _ = split_symbol(symbol)
    shown = venue_steps.shown(Decimal(f"{amount:.10g}"))  # 0.000005, not 5e-06
    return (
        f"the {shown} {base} left are dust: less than the exchange takes in one sell, so no sell can "
        "take them; they stay in the balance, and the strategy's next position takes them in"
    )
