"""Orders the exchange cannot confirm, asked again after growing intervals instead of at every poll.

A working order the exchange no longer tells about is marked and said once (``archived_orders.UNSEEN``:
a lone stop it shows neither by its client order id nor by its order id, and whose trades do not tell;
``lost_legs.UNSETTLED`` on an OCO leg it had shown resting and now shows neither by its client id nor
through its list). It stays working in the journal, and it was asked again at every poll (5 s by
default) for as long as it did not turn up: three requests each time for such a stop (by client id, by
order id, its trades), two for such a leg (by client id, its list), 2,160 requests an hour for one stop,
taken from the request weight the orders that trade need too.

Now it is asked again after growing intervals: ``FIRST_S`` after the look that found it unclear, then
twice as long after each look that still finds it so, up to ``MOST_S``. Nothing is given up, and no fill
is dropped:

- it is always asked again, at ``MOST_S`` at the latest, and at each start (the schedule is this run's);
- the interval starts over, asked at the next poll, when something changes that may have changed it:
  its journal row (its state, fills or reason: another step booked or settled it), or the market
  reaching its level (a sell stop's trigger, a limit sell's price, and the converse for buys), where it
  may have filled;
- whatever a look finds is taken the one way it always was (``live._take``, ``archived_orders.settle``,
  ``lost_legs.settle``): a fill booked by ``_sync``, a mark that goes (``archived_orders.unmark``) when it
  turns up; it is said once, as before.

Other doors ask at once whatever the schedule (a cancel by hand, a sell by hand replacing exits): they
resolve the order themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from mastertrade.db.models.trading import OrderRecord
from mastertrade.engine.kernel.backoff import Backoff
from mastertrade.engine.orders import OrderState, OrderType, Side

FIRST_S = 30.0
"""How long after a look that found an order unclear it is asked again (six polls at the default)."""
MOST_S = 1_800.0
"""The longest interval between two looks at an unclear order (half an hour)."""
LOOKS = Backoff(FIRST_S, MOST_S)
"""The interval after the n-th look in a row that found an order unclear (the engine's one backoff)."""
AGAIN = "looked up again after growing intervals, at least every half hour"
"""How the reason of an order marked unclear says when it is asked again."""

_WORKING = frozenset({OrderState.OPEN, OrderState.PARTIALLY_FILLED})


@dataclass
class _Next:
    at: datetime
    looks: int
    """Looks in a row that found it unclear."""
    row: OrderRecord
    """The order as the journal had it after its last look."""
    past: bool
    """Whether its symbol's latest price update (its bar's range) reached its level."""


def reached(row: OrderRecord, price: float | None) -> bool:
    """Whether ``price`` is at or past ``row``'s level, where it may fill: a stop's trigger, a limit's
    price (a sell's at or above it, a buy's at or below it)."""
    if price is None:
        return False
    sell = row.side == Side.SELL.value
    if row.type == OrderType.STOP.value:
        if row.stop_price is None:
            return False
        return price <= row.stop_price if sell else price >= row.stop_price
    if row.price is None:
        return False
    return price >= row.price if sell else price <= row.price


def _reaches(row: OrderRecord, low: float, high: float) -> bool:
    return reached(row, low) or reached(row, high)


def _same(a: OrderRecord, b: OrderRecord) -> bool:
    return (a.state, a.filled, a.reason) == (b.state, b.filled, b.reason)


class UnclearLookups:
    """When each unclear order of one live broker is asked again (see the module docstring)."""

    def __init__(self, clock: Callable[[], datetime], marked: Callable[[OrderRecord], bool]) -> None:
        self.clock = clock
        self.marked = marked
        """Whether an order carries a mark of one the exchange does not tell about
        (``archived_orders.was_marked``)."""
        self._next: dict[int, _Next] = {}

    def unclear(self, row: OrderRecord) -> bool:
        """A working order marked as one the exchange does not tell about (see the module docstring)."""
        return OrderState(row.state) in _WORKING and self.marked(row)

    def due(self, row: OrderRecord) -> bool:
        """Whether ``row`` is to be looked up at this poll: any order not waiting for its next look, one
        whose next look has come, or one whose journal row changed (then its interval starts over)."""
        entry = self._next.get(row.id) if row.id is not None else None
        if entry is None:
            return True
        if not _same(row, entry.row):
            self.forget(entry.row)
            return True
        return self.clock() >= entry.at

    def looked(self, row: OrderRecord, seen: tuple[float, float] | None) -> None:
        """After a look at ``row`` (as the journal has it now; ``seen``: the low and high of its
        symbol's latest price update): still unclear, its next look waits longer (``FIRST_S``, then
        twice the last wait, up to ``MOST_S``); otherwise it is forgotten."""
        if row.id is None:
            return
        if not self.unclear(row):
            self.forget(row)
            return
        last = self._next.get(row.id)
        looks = 1 if last is None else last.looks + 1
        past = seen is not None and _reaches(row, *seen)
        self._next[row.id] = _Next(self.clock() + timedelta(seconds=LOOKS.delay(looks)), looks, row, past)

    def priced(self, symbol: str, low: float, high: float) -> None:
        """A price update of ``symbol`` (its bar's ``low`` and ``high`` so far): an unclear order whose
        level it reaches, when the update before did not, may have filled: it is asked at the next poll,
        its interval started over. (While its bar stays past the level, that is not news.)"""
        for entry in list(self._next.values()):
            if entry.row.symbol != symbol:
                continue
            past = _reaches(entry.row, low, high)
            if past and not entry.past:
                self.forget(entry.row)
            entry.past = past

    def forget(self, row: OrderRecord) -> None:
        if row.id is not None:
            self._next.pop(row.id, None)

    def waiting(self) -> dict[int, datetime]:
        """Order id -> when it is asked again, for the unclear orders waiting for their next look."""
        return {order_id: entry.at for order_id, entry in self._next.items()}
