"""Live positions (or parts of them) that have no exits at the exchange although their buy asked for
them, and why: shown by ``mt positions`` and ``/v1/positions`` (``unprotected``) until the exits are
placed.

A bracketed limit buy that fills in parts gets exits for what it has bought so far (``live_partial``);
a part worth less than the exchange's minimum notional (Binance's ``NOTIONAL`` filter: 5 USDT on
BTC/USDT), or under its minimum amount, can have none: the exchange refuses such an order. That part is
unprotected until further fills make it big enough. It is said once per state (a warning in the daemon
log and a ``risk_limit`` alert, limit ``exit_unplaced``), not at every poll, and shown with the position.
The record is kept in memory: every start settles the entries again (their exits are resized or placed
at the first poll), which notes it again.
"""

from __future__ import annotations

import logging
from typing import Any

from mastertrade.engine import events
from mastertrade.engine.execution.ledger import split_symbol

log = logging.getLogger(__name__)

LIMIT = "exit_unplaced"
"""The ``RiskBreached`` limit of the alert (``alerts.rules``)."""


def below_minimum(market: dict[str, Any], amount: float, price: float | None) -> str | None:
    """Why the exchange takes no order of ``amount`` at ``price`` in ``market`` (its minimum amount or
    notional, named), or None when it does."""
    base, quote = split_symbol(str(market.get("symbol") or "/"))
    limits = market.get("limits") or {}
    least = (limits.get("amount") or {}).get("min")
    if least is not None and amount < float(least):
        return f"below the exchange's minimum amount of {float(least):g} {base}"
    least_cost = (limits.get("cost") or {}).get("min")
    if least_cost is not None and price is not None and amount * price < float(least_cost):
        return (
            f"worth {amount * price:.8g} {quote}, below the exchange's minimum notional of "
            f"{float(least_cost):g} {quote}"
        )
    return None


class Unprotected:
    """The live broker's record of buys whose filled part has no exits at the exchange."""

    def __init__(self) -> None:
        self._by_entry: dict[int, tuple[str, str]] = {}
        """Entry order id -> (symbol, why its filled part has no exits)."""

    def note(self, entry_id: int, symbol: str, message: str, publish: Any) -> None:
        """The entry's filled part has no exits (``message`` says why): said once per message."""
        if self._by_entry.get(entry_id) == (symbol, message):
            return
        self._by_entry[entry_id] = (symbol, message)
        log.warning(message)
        publish(
            events.RiskBreached(
                limit=LIMIT, value=0.0, threshold=0.0, message=message, severity="warning", symbol=symbol
            )
        )

    def clear(self, entry_id: int) -> None:
        """The entry's filled part has its exits (or nothing to protect, or the entry ended)."""
        if self._by_entry.pop(entry_id, None) is not None:
            log.info("the filled part of order %s has its exits at the exchange now", entry_id)

    def by_symbol(self) -> dict[str, str]:
        """Symbol -> why (part of) its position has no exits at the exchange."""
        shown: dict[str, list[str]] = {}
        for symbol, message in self._by_entry.values():
            shown.setdefault(symbol, []).append(message)
        return {symbol: "; ".join(messages) for symbol, messages in shown.items()}
