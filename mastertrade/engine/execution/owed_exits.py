"""Exit signals a live strategy still owes: its exits resting at the exchange could not be taken back.

A strategy's exit signal takes back its stop and take-profit resting at the exchange (``native_stops``),
which hold its coins, then sells what it holds (``Trader``). When the exchange will not take them back (the
cancel failed, or its answer is unknown: the exits may still sell), they still hold those coins: the sell
takes only what the strategy holds beside them. Sized as all it holds, it was cut by the risk check to the
coins free beside them, which are other owners' (the account's own, another strategy's), and booked as the
strategy's: its position then counted coins it never had, and the account's own lost them.

The rest of the exit is owed: at the symbol's next prices, not sooner than ``RETRY_S`` after the last try,
the trader takes the exits back again and, once none rests, sells what the strategy holds; one that filled
meanwhile sold the position itself, and nothing is owed. Meanwhile the exits keep protecting the position
at the exchange, and its protection keeps watching it.

Kept in memory only: a restart forgets what is owed, and the strategy's next exit signal (or its
protection, at a level) sells the position then, by the same rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from mastertrade.engine.execution.strategies import TradedStrategy

RETRY_S = 5.0
"""How long an owed exit waits before its next try, so an exchange refusing cancels is not asked at every
price update."""


@dataclass(frozen=True)
class OwedExit:
    item: TradedStrategy
    symbol: str
    not_before: datetime
    """No try before this time (``RETRY_S`` after the last)."""


class OwedExits:
    """The owed exits of one trader, by strategy and symbol (see the module docstring)."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self._owed: dict[tuple[str, str], OwedExit] = {}

    def owe(self, item: TradedStrategy, symbol: str) -> None:
        """``item``'s exit in ``symbol`` is owed, tried again after ``RETRY_S``."""
        later = self.clock() + timedelta(seconds=RETRY_S)
        self._owed[(item.id, symbol)] = OwedExit(item, symbol, later)

    def paid(self, strategy_id: str, symbol: str) -> None:
        """Nothing is owed of ``strategy_id``'s exit in ``symbol`` (it sold, or its position is gone)."""
        self._owed.pop((strategy_id, symbol), None)

    def owes(self, strategy_id: str, symbol: str) -> bool:
        return (strategy_id, symbol) in self._owed

    def due(self, symbol: str) -> list[TradedStrategy]:
        """The strategies whose owed exit in ``symbol`` may be tried again now."""
        now = self.clock()
        return [owed.item for owed in self._owed.values() if owed.symbol == symbol and owed.not_before <= now]
