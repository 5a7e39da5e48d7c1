"""Orders working in a market the exchange no longer lists (delisted, or removed from its API).

When an exchange delists a market, it drops it from its market list (``load_markets``), and every call
about it, an order's lookup or cancel included, fails as "Invalid symbol" (ccxt's ``BadSymbol``,
``errors.NotFound``). Before, each poll looked up every order still working there, each failure was
logged and counted by the exchange-errors breaker: one dead market halted trading in the whole account
within a minute, and nobody was told why.

Now a lookup that fails so asks the exchange's market list again (one request). When the market is not
listed, the market is taken as gone:

- it is said once: an error in the daemon log and a critical alert (``RiskBreached``, limit
  ``market_gone``) naming the orders still working there and the position held in it;
- its orders keep their state and fills as the journal has them: nothing is concluded without the
  exchange saying so (no order is marked cancelled, no fill dropped);
- its orders are not looked up at every poll: the market list is asked again after growing intervals
  (``FIRST_S``, twice as long after each look that does not find it, up to ``MOST_S``), and at each
  start;
- these failures are not counted by the exchange-errors breaker (the other markets trade on);
- ``mt orders`` and ``mt positions`` (``market_gone`` in ``/v1/orders`` and ``/v1/positions``) say it
  with each order and the position.

When a look finds the market listed again, it is said (logged) and its orders are looked up at that
poll, as before. A lookup that fails although the market is listed is an exchange error as any other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from mastertrade import errors
from mastertrade.db.models.trading import OrderRecord
from mastertrade.engine import events
from mastertrade.engine.execution.ledger import split_symbol
from mastertrade.engine.kernel.backoff import Backoff
from mastertrade.utc import iso

log = logging.getLogger(__name__)

LIMIT = "market_gone"
"""The ``RiskBreached`` limit of the alert (``alerts.rules``)."""
FIRST_S = 60.0
"""How long after the look that found the market gone its list is asked again."""
MOST_S = 1_800.0
"""The longest interval between two looks at a gone market's list (half an hour)."""
LOOKS = Backoff(FIRST_S, MOST_S)
"""The interval after the n-th look in a row that did not find it listed (the engine's one backoff)."""


class Broker(Protocol):
    """What this module uses of ``live.LiveBroker`` (a port: it does not import it)."""

    book: str
    venue: Any
    journal: Any

    def _emit(self, event: events.Event) -> None: ...


@dataclass
class _Gone:
    since: datetime
    at: datetime
    """When its market list is asked again."""
    looks: int
    """Looks in a row that did not find it listed."""
    message: str


class GoneMarkets:
    """The markets of one live broker that the exchange no longer lists (see the module docstring)."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self._gone: dict[str, _Gone] = {}

    def gone(self, symbol: str) -> bool:
        return symbol in self._gone

    def due(self, symbol: str) -> bool:
        """Whether ``symbol``'s orders are to be looked up at this poll: a listed market's always, a gone
        one's when its next look has come."""
        entry = self._gone.get(symbol)
        return entry is None or self.clock() >= entry.at

    def by_symbol(self) -> dict[str, str]:
        """Symbol -> what is said about it (``mt orders``, ``mt positions``)."""
        return {symbol: entry.message for symbol, entry in self._gone.items()}

    def waiting(self) -> dict[str, datetime]:
        """Symbol -> when its market list is asked again."""
        return {symbol: entry.at for symbol, entry in self._gone.items()}

    def wait_longer(self, symbol: str) -> None:
        entry = self._gone[symbol]
        entry.looks += 1
        entry.at = self.clock() + timedelta(seconds=LOOKS.delay(entry.looks))

    def drop(self, symbol: str) -> None:
        self._gone.pop(symbol, None)

    def add(self, symbol: str, message: str) -> None:
        now = self.clock()
        self._gone[symbol] = _Gone(now, now + timedelta(seconds=LOOKS.delay(1)), 1, message)


async def listed(broker: Broker, symbol: str) -> bool | None:
    """Whether the exchange lists ``symbol`` now (its market list asked again); None when it could not
    be asked (then nothing is concluded)."""
    try:
        markets = await broker.venue.load_markets(reload=True)
    except errors.MasterTradeError as exc:
        log.warning("live broker: asking %s's markets about %s: %s", broker.venue.id, symbol, exc)
        return None
    return symbol in markets


async def failed(broker: Broker, gone: GoneMarkets, row: OrderRecord, exc: errors.MasterTradeError) -> bool:
    """A lookup of ``row`` failed with ``exc``: True when that is because its market is gone (then it
    is said once, see the module docstring, and not counted as an exchange error); False otherwise."""
    if not isinstance(exc, errors.NotFound):
        return False
    if gone.gone(row.symbol):
        return True  # a look at a gone market whose list could not be asked: it waits for the next one
    if await listed(broker, row.symbol) is not False:
        return False
    working = await broker.journal.in_flight(broker.book)
    stuck = sorted(r.id for r in working if r.symbol == row.symbol and r.id is not None)
    held = (await broker.journal.ledger(broker.book)).held(row.symbol)  # the journal's, also at a start
    base, _ = split_symbol(row.symbol)
    position = f"a position of {held:g} {base}" if held > 0 else "no position"
    since = iso(gone.clock(), "seconds")
    message = (
        f"{row.symbol} is no longer listed by {broker.venue.id} (delisted or removed) since {since}: "
        f"order{'s' if len(stuck) != 1 else ''} {', '.join(str(i) for i in stuck)} and {position} are "
        "stuck there, kept as they were; asked again after growing intervals (at least every half hour), "
        "looked up as before once it is listed again; check the exchange"
    )
    gone.add(row.symbol, message)
    log.error("live broker: %s", message)
    broker._emit(
        events.RiskBreached(
            limit=LIMIT,
            value=float(len(stuck)),
            threshold=0.0,
            message=message,
            severity="critical",
            symbol=row.symbol,
        )
    )
    return True


async def look_again(broker: Broker, gone: GoneMarkets, symbol: str) -> bool:
    """At a gone market's next look: True when it is listed again (its orders are looked up now, as
    before); False when it is still gone (asked again after a longer wait)."""
    if await listed(broker, symbol):
        gone.drop(symbol)
        log.warning(
            "live broker: %s is listed by %s again: its orders are looked up as before",
            symbol,
            broker.venue.id,
        )
        return True
    gone.wait_longer(symbol)
    return False
