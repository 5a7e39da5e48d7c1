"""The simulated venue: the simulated market (``sim.py``) served through the ``Venue`` interface.

History (``fetch_ohlcv``) is anchored at a fixed origin, so any two requests agree on every bar they
share and a paginated download joins up seamlessly. The live feed (``stream``) is the venue
``sim-live`` (``SIM_LIVE_EXCHANGE``): its bars are stored in their own series, never in the research
series ``sim`` that ``mt data sim`` writes and ``mt backtest`` reads, so a running simulation does not
change a backtest's answer. On its first start a symbol's live series is a copy of its research series
(indicators need history), and the feed continues from where the live series ends (its last close, the
bar after its last timestamp), or from the anchored history at the current time when nothing is stored,
and runs in accelerated market time:
``speed`` market seconds pass per wall-clock second, and each bar is shown forming in
``ticks_per_bar`` updates before its close.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

import numpy as np

from mastertrade.engine.candle import CandleRow
from mastertrade.engine.market.sim import SimMarket
from mastertrade.engine.market.store import SIM_EXCHANGE, SIM_LIVE_EXCHANGE, CandleStore, SeriesKey
from mastertrade.engine.market.ticks import forming_update, intrabar_path
from mastertrade.engine.market.timeframes import floor_ts, now_ms, timeframe_ms
from mastertrade.engine.market.venue import CandleUpdate
from mastertrade.errors import UserInputError

ORIGIN_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z: where the anchored history begins
_CHUNK = 10_000

Sleep = Callable[[float], Awaitable[None]]


class _Anchored:
    """The origin-anchored history of one (symbol, timeframe), generated lazily and kept."""

    def __init__(self, symbol: str, timeframe: str, seed: int) -> None:
        self.market = SimMarket(symbol, timeframe, seed, ORIGIN_MS)
        self.parts: list[np.ndarray[Any, np.dtype[np.float64]]] = []
        self.bars = 0

    def upto(self, count: int) -> np.ndarray[Any, np.dtype[np.float64]]:
        while self.bars < count:
            chunk = self.market.bars(_CHUNK)
            self.parts.append(chunk)
            self.bars += len(chunk)
        if len(self.parts) > 1:
            self.parts = [np.concatenate(self.parts)]
        return self.parts[0][:count]


class SimVenue:
    """A ``Venue`` over the simulated market."""

    def __init__(
        self,
        *,
        seed: int = 7,
        speed: float = 1800.0,
        ticks_per_bar: int = 12,
        store: CandleStore | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        if speed <= 0:
            raise UserInputError(f"invalid simulation speed {speed}: must be > 0")
        if ticks_per_bar < 1:
            raise UserInputError(f"invalid ticks per bar {ticks_per_bar}: must be >= 1")
        self.seed = seed
        self.speed = speed
        self.ticks_per_bar = ticks_per_bar
        self.store = store
        self._sleep = sleep
        self._clock = clock
        self._anchored: dict[tuple[str, str], _Anchored] = {}
        # Generating years of anchored history takes a second per symbol: it runs in a thread so the
        # daemon's event loop (API, other services) keeps going, one generation at a time.
        self._generating = asyncio.Lock()

    @property
    def id(self) -> str:
        return SIM_LIVE_EXCHANGE

    @property
    def simulated(self) -> bool:
        return True

    async def fetch_ohlcv(self, symbol: str, timeframe: str, since: int, limit: int) -> list[CandleRow]:
        step = timeframe_ms(timeframe)
        first = max(0, -(-(since - ORIGIN_MS) // step))  # first bar index with ts >= since
        last = (floor_ts(self._clock(), timeframe) - ORIGIN_MS) // step  # the forming bar, inclusive
        count = min(limit, last - first + 1)
        if count <= 0:
            return []
        anchored = self._anchored.setdefault((symbol, timeframe), _Anchored(symbol, timeframe, self.seed))
        async with self._generating:
            history = await asyncio.to_thread(anchored.upto, first + count)
        return [
            (int(row[0]), float(row[1]), float(row[2]), float(row[3]), float(row[4]), float(row[5]))
            for row in history[first : first + count]
        ]

    async def seed_live_series(self, symbols: Sequence[str], timeframe: str) -> list[str]:
        """Start each symbol's live series as a copy of its research series, unless it has bars already;
        returns the symbols copied. The research series is only read."""
        if self.store is None:
            return []
        from mastertrade.engine.market.store import rows_from_frame

        copied = []
        for symbol in symbols:
            key = SeriesKey(SIM_LIVE_EXCHANGE, symbol, timeframe)
            if (await self.store.info(key)).last is not None:
                continue
            research = SeriesKey(SIM_EXCHANGE, symbol, timeframe)
            if (await self.store.info(research)).last is None:
                continue
            await self.store.upsert(key, rows_from_frame(await self.store.read(research)))
            copied.append(symbol)
        return copied

    async def _continuation(self, symbol: str, timeframe: str) -> SimMarket:
        """The live process of a symbol, continuing its stored history when there is one."""
        step = timeframe_ms(timeframe)
        if self.store is not None:
            key = SeriesKey(SIM_LIVE_EXCHANGE, symbol, timeframe)
            await self.seed_live_series([symbol], timeframe)
            info = await self.store.info(key)
            if info.last is not None:
                last = await self.store.read_matrix(key, start=info.last)
                return SimMarket(
                    symbol,
                    timeframe,
                    self.seed,
                    info.last + step,
                    start_price=float(last[-1, 4]),
                    stream=1 + zlib.crc32(str(info.last).encode()),
                )
        start = floor_ts(self._clock(), timeframe)
        anchored = await self.fetch_ohlcv(symbol, timeframe, start - step, 1)
        price = anchored[-1][4] if anchored else None
        return SimMarket(symbol, timeframe, self.seed, start, start_price=price, stream=1)

    async def stream(
        self, symbols: Sequence[str], timeframe: str, *, after: Mapping[str, int] | None = None
    ) -> AsyncIterator[CandleUpdate]:
        """Bars of every symbol forming in lockstep, tick by tick, in accelerated market time (``after`` is
        ignored: the simulated market continues from the stored bars, it has none to fill)."""
        markets = [await self._continuation(symbol, timeframe) for symbol in symbols]
        rng = np.random.default_rng([self.seed, 99])
        tick_seconds = timeframe_ms(timeframe) / 1000 / self.speed / self.ticks_per_bar
        while True:
            bars = [market.bars(1)[0] for market in markets]
            paths = [intrabar_path(b[1], b[2], b[3], b[4], self.ticks_per_bar, rng) for b in bars]
            for tick in range(self.ticks_per_bar):
                await self._sleep(tick_seconds)
                for symbol, bar, path in zip(symbols, bars, paths, strict=True):
                    yield forming_update(symbol, timeframe, bar, path, tick)

    async def close(self) -> None:
        self._anchored.clear()
