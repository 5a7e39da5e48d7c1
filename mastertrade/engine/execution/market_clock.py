"""Market time for a simulated or replayed market: the clock the trading core runs on there.

In an accelerated simulation a market hour passes in a couple of wall seconds, so anything the trading
core times by the wall clock (a breaker's cool-down, the kill switch's "until", the freshness of prices)
would last hundreds of simulated hours: a one-hour cool-down after a price jump would stop the demo's
strategies for weeks of its market. ``MarketClock`` is the time of the newest price the feed delivered
(a closed bar counts as its close time), so a one-hour cool-down is one simulated hour. Before the first
price it reads the wall clock. It never goes back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from mastertrade.db.types import utcnow
from mastertrade.engine.market.timeframes import timeframe_ms
from mastertrade.utc import from_ms


class MarketClock:
    """A callable clock (like ``utcnow``) that the market feed moves forward (``observe``)."""

    def __init__(self, timeframe: str, *, fallback: Callable[[], datetime] = utcnow) -> None:
        self.step = timeframe_ms(timeframe)
        self.fallback = fallback
        self.now_ms: int | None = None

    def observe(self, bar_ts: int, *, closed: bool) -> None:
        """A price of the bar opened at ``bar_ts`` (``closed``: the bar is final, so its close time)."""
        at = bar_ts + self.step if closed else bar_ts
        if self.now_ms is None or at > self.now_ms:
            self.now_ms = at

    def __call__(self) -> datetime:
        if self.now_ms is None:
            return self.fallback()
        return from_ms(self.now_ms)
