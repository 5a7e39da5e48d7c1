"""What the ccxt venue (``ccxt_venue``) and its live feed (``ccxt_stream``) share: the refusal of an
address outside the configured ones, the feed's websocket policy, the conversion of ccxt's OHLCV lists,
and what the feed needs of its venue (``FeedVenue``), so neither module reaches into the other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from mastertrade import errors
from mastertrade.engine.candle import CandleRow
from mastertrade.engine.market.retry import RetryPolicy

Sleep = Callable[[float], Awaitable[object]]


class BlockedRequest(errors.OperationFailed):
    """A request to an address outside ``[exchange] api_url``, refused before it touched the network."""


@dataclass(frozen=True)
class WsPolicy:
    """When the live feed gives up on websockets for a while, and when a silent stream counts as dead."""

    failures_before_polling: int = 3
    """Sessions in a row that failed before delivering anything, after which the feed polls REST."""

    retry_after_s: float = 300.0
    """How long the feed polls after giving up on websockets, before it tries them again."""

    idle_timeout_s: float = 120.0
    """A symbol's stream silent this long is taken for a dead connection (Binance sends every 2 s)."""


def candle_row(item: Sequence[Any]) -> CandleRow | None:
    """A store row from a ccxt OHLCV list; None when a price is missing. A missing volume counts as 0."""
    ts, o, h, low, c = item[:5]
    if ts is None or any(x is None for x in (o, h, low, c)):
        return None
    v = item[5] if len(item) > 5 and item[5] is not None else 0.0
    return (int(ts), float(o), float(h), float(low), float(c), float(v))


def within(url: str, base: str) -> bool:
    return url == base or url.startswith((base + "/", base + "?"))


class FeedVenue(Protocol):
    """What the live feed uses of its venue (``ccxt_venue.CcxtVenue``)."""

    @property
    def id(self) -> str: ...

    @property
    def exchange(self) -> Any: ...

    ws_policy: WsPolicy
    ws_off: str | None
    retry: RetryPolicy
    poll_interval_s: float
    page_limit: int
    feed_trouble: dict[str, tuple[int, str]]
    sleep: Sleep

    def ws_client(self) -> Any: ...

    async def load_markets(self) -> Any: ...

    async def fetch_ohlcv(self, symbol: str, timeframe: str, since: int, limit: int) -> list[CandleRow]: ...

    async def fetch_rows(
        self, symbol: str, timeframe: str, since: int | None, limit: int
    ) -> list[CandleRow]: ...
