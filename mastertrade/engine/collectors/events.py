"""The event a data source publishes when its health changes, on the daemon's bus and in the alerts.

It lives here rather than in ``engine/events.py`` because it belongs to the collectors; subclassing
``Event`` registers its type (``collector.state``) like any other. It imports nothing but the event base,
so the alert rules can import it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from mastertrade.engine.events import Event


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceStateChanged(Event):
    """A data source changed state (``ok``, ``stale``, ``disabled``, ``error``; see ``health.py``).

    ``previous`` is None when nothing was known before. ``reason`` says why it is not ok.
    """

    type: ClassVar[str] = "collector.state"

    source: str
    previous: str | None
    state: str
    reason: str | None = None

    @property
    def service(self) -> str:
        """The source, under the name alert rules narrow on (``mt alerts add data_source --service news``)."""
        return self.source

    @property
    def degraded(self) -> bool:
        return self.state in ("stale", "error")

    def message(self) -> str:
        before = f"{self.previous} -> " if self.previous else ""
        why = f": {self.reason}" if self.reason else ""
        return f"source {self.source} {before}{self.state}{why}"


@dataclass(frozen=True, slots=True, kw_only=True)
class WhaleSpotted(Event):
    """New transactions above ``[collectors] whale_threshold_usd`` were seen in a block (the whale
    source). ``block_ts`` is the block's time (epoch ms); dollar figures use the price at collection."""

    type: ClassVar[str] = "collector.whale"

    source: str
    symbol: str
    block_ts: int
    count: int
    volume_usd: float
    max_usd: float
    threshold_usd: float

    def message(self) -> str:
        several = (
            f"{self.count} transactions moved ${self.volume_usd:,.0f}; the largest " if self.count > 1 else ""
        )
        return (
            f"{several}${self.max_usd:,.0f} moved on-chain ({self.symbol}), above ${self.threshold_usd:,.0f}"
        )
