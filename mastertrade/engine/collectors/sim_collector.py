"""Live simulated features for the daemon on the simulated market (``[market] venue = "sim"``).

Each poll reads the newest stored candles of the configured symbols (the market feed stores every bar
that closes), derives the simulated features over a trailing window with :func:`sim.simulate_features`
and returns the values of the bars closed since the previous poll, under source ``sim``. So the demo's
strategies see sentiment, fear & greed and on-chain series that keep moving with the prices, offline.
Each poll's values record what they were derived from (``derived_from``: the running simulation's series
and the seed, as ``mt data sim`` records its run), so ``mt data sim`` and ``mt data delete`` can tell the
daemon's values from a run's. A coin's values come from its first configured symbol (BTC/USDT before
BTC/EUR): they are kept per coin, so two quotes cannot both derive them.

On a replay (``played_only``) it derives them from the bars closed by market time only: the replay's
store holds the bars it has yet to play, and some series are scaled over the whole window (the mempool's
over its median volatility), so a value published before the market time moved with the prices to come.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from mastertrade.engine.collectors.base import MINUTE_S, Collector, FeaturePoint
from mastertrade.engine.collectors.origins import Origin
from mastertrade.engine.collectors.sim import SIM_SOURCE, one_per_coin, simulate_features
from mastertrade.engine.market.as_of import opened_before
from mastertrade.engine.market.store import SeriesKey
from mastertrade.engine.market.timeframes import timeframe_ms
from mastertrade.errors import NotFound

if TYPE_CHECKING:
    from mastertrade.config import CollectorsSettings
    from mastertrade.engine.market.store import CandleStore

WINDOW_DAYS = 60
"""Trailing history the features are computed over (fear & greed needs a month of daily closes)."""


class SimFeatureCollector(Collector):
    name = SIM_SOURCE
    description = "Simulated sentiment, fear & greed and on-chain series that follow the simulated market"
    default_interval_s = MINUTE_S

    def __init__(
        self,
        settings: CollectorsSettings,
        candles: CandleStore,
        *,
        exchange: str,
        symbols: list[str],
        timeframe: str,
        seed: int,
        played_only: bool = False,
    ) -> None:
        super().__init__(settings)
        self.candles = candles
        self.exchange = exchange
        self.symbols = list(symbols)
        self.timeframe = timeframe
        self.seed = seed
        self.played_only = played_only
        """Read only the bars closed by ``now`` (a replay: module docstring)."""
        self.written_until: int | None = None
        """Values with ``published_at`` up to here were returned by an earlier poll."""

    async def collect(self, client: httpx.AsyncClient, now: int) -> list[FeaturePoint]:
        bar_ms = timeframe_ms(self.timeframe)
        window = max(WINDOW_DAYS * 86_400_000, 200 * bar_ms)
        end = opened_before(now, self.timeframe) if self.played_only else None
        frames = {}
        keys = []
        for symbol in one_per_coin(self.symbols):
            key = SeriesKey(self.exchange, symbol, self.timeframe)
            try:
                frame = await self.candles.read(key, start=now - window, end=end)
            except NotFound:
                continue  # no bar of this symbol stored yet: nothing to derive from
            if not frame.empty:
                frames[symbol] = frame
                keys.append(key)
        self.derived_from = Origin.of(keys, self.seed) if keys else None
        points = [
            point
            for point in simulate_features(frames, self.timeframe, self.seed)
            if point.published_at <= now
            and (self.written_until is None or point.published_at > self.written_until)
        ]
        if points:
            self.written_until = max(point.published_at for point in points)
        return points

    @property
    def interval_s(self) -> float:
        """At least one bar: the features follow closed bars, so polling more often finds nothing new."""
        return max(super().interval_s, timeframe_ms(self.timeframe) / 1000)

    def dump_state(self) -> dict[str, Any]:
        return {"written_until": self.written_until}

    def load_state(self, state: dict[str, Any]) -> None:
        value = state.get("written_until")
        self.written_until = value if isinstance(value, int) else None
