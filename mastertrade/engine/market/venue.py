"""The venue interface: where candles come from.

Three implementations share it: a ccxt exchange (``ccxt_venue``), the simulated market
(``sim_venue``) and a replay of stored candles (``replay``); tests add their own fakes. Code above this
layer (downloads, the daemon's market feed, paper trading) sees only ``Venue``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from mastertrade.engine.candle import Candle, CandleRow


@dataclass(frozen=True, slots=True)
class CandleUpdate:
    """One step of a live feed: the latest state of a symbol's current bar.

    ``closed`` is true exactly once per bar, when the bar is final; the updates before it carry the
    bar as it forms (its close is the latest price).
    """

    symbol: str
    timeframe: str
    candle: Candle
    closed: bool
    at: int | None = None
    """Market time of this update (epoch ms) when the venue knows it: a simulated or replayed bar forming
    tick by tick is at the tick's time inside the bar (its close time once closed). None: a real venue's
    update is at the moment it arrives."""

    @property
    def ts(self) -> int:
        return self.candle.ts

    def row(self) -> CandleRow:
        return self.candle.row()


@runtime_checkable
class Venue(Protocol):
    """A source of candles, historical and live."""

    @property
    def id(self) -> str:
        """The exchange id candles from this venue are stored under ("sim" for the simulated market)."""
        ...

    @property
    def simulated(self) -> bool:
        """True when prices are not a real market's: shown as such wherever they appear."""
        ...

    async def fetch_ohlcv(self, symbol: str, timeframe: str, since: int, limit: int) -> list[CandleRow]:
        """Up to ``limit`` candles with ``ts >= since``, oldest first; the last one may be unfinished."""
        ...

    def stream(
        self, symbols: Sequence[str], timeframe: str, *, after: Mapping[str, int] | None = None
    ) -> AsyncIterator[CandleUpdate]:
        """Live updates of the symbols' current bars, forever (until the caller stops iterating).

        ``after`` holds the open time of each symbol's newest stored bar: an exchange first closes
        every bar since then (the bars that closed while nobody listened), so a restart leaves no hole.
        The simulated and replay venues have no such bars and ignore it.
        """
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class ReportsFeedTrouble(Protocol):
    """A venue whose live feed carries on through failures it retries (``CcxtVenue`` polling REST): it
    keeps, per symbol, since when (epoch ms) its polls have failed and the latest reason, until one
    works again. ``mt status`` shows it, so a feed that stopped bringing bars does not pass for a
    running one."""

    feed_trouble: dict[str, tuple[int, str]]
