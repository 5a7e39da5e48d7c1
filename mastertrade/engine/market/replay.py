"""The replay venue: stored candles played back as a live feed, for paper trading on history and
for demos. Bars are shown forming tick by tick (``ticks.py``) at ``speed`` market seconds per wall
second; the stream ends when the stored history does, and ``ended`` then says so (``mt status``).

Market time never goes back: with ``positions`` (the daemon's), each bar is recorded before its first
tick is shown (``replay_position.py``) and a restarted replay resumes after the recorded bar, never from
the first stored candle, so an order placed before the restart fills only at bars after it was placed.
A bar cut short by a crash is not shown again (its stored candle is still there for the strategies'
bar clock). ``start`` applies when it is later than that; replaying from the beginning again takes a
new workspace (README, "Replay").

Its ``id`` is the exchange the candles are stored under (so a feed that stores what it streams rewrites
the same rows, never duplicates), and it always reports ``simulated``: replayed prices are not the
live market, and nothing shown from them may look as if they were.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from mastertrade.engine.candle import CandleRow
from mastertrade.engine.market.store import CandleStore, SeriesKey
from mastertrade.engine.market.ticks import forming_update, intrabar_path
from mastertrade.engine.market.timeframes import timeframe_ms
from mastertrade.engine.market.venue import CandleUpdate
from mastertrade.errors import UserInputError
from mastertrade.utc import iso_ms

if TYPE_CHECKING:
    from mastertrade.engine.market.replay_position import ReplayPositions

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class ReplayVenue:
    """A ``Venue`` that plays stored candles of one exchange back from ``start``."""

    def __init__(
        self,
        store: CandleStore,
        exchange: str,
        *,
        start: int | None = None,
        speed: float = 1800.0,
        ticks_per_bar: int = 12,
        sleep: Sleep = asyncio.sleep,
        positions: ReplayPositions | None = None,
    ) -> None:
        if speed <= 0:
            raise UserInputError(f"invalid replay speed {speed}: must be > 0")
        if ticks_per_bar < 1:
            raise UserInputError(f"invalid ticks per bar {ticks_per_bar}: must be >= 1")
        self.store = store
        self.exchange = exchange
        self.start = start
        self.speed = speed
        self.ticks_per_bar = ticks_per_bar
        self._sleep = sleep
        self.positions = positions
        self.ended: str | None = None
        """Set once every stored bar has been served: why market time stands still."""

    @property
    def id(self) -> str:
        return self.exchange

    @property
    def simulated(self) -> bool:
        return True

    async def fetch_ohlcv(self, symbol: str, timeframe: str, since: int, limit: int) -> list[CandleRow]:
        matrix = await self.store.read_matrix(SeriesKey(self.exchange, symbol, timeframe), start=since)
        return [
            (int(row[0]), float(row[1]), float(row[2]), float(row[3]), float(row[4]), float(row[5]))
            for row in matrix[:limit]
        ]

    async def resume_time(self, timeframe: str) -> int | None:
        """Market time where a restarted replay stands (epoch ms): the close of the last bar it served,
        None before any. The daemon's market clocks start there, not on the wall clock, so what runs
        before the first replayed price (or after the stored bars ran out) keeps the replay's time."""
        served = await self.positions.served(self.exchange, timeframe) if self.positions else None
        return None if served is None else served + timeframe_ms(timeframe)

    async def last_served(self, symbol: str, timeframe: str) -> int | None:
        """Open time of the newest bar of ``symbol`` this replay has served, None before any: the last
        closed bar a restarted daemon shows (``mt status``). The store's newest bar is the end of the
        stored history, a bar the replay has yet to play."""
        served = await self.positions.served(self.exchange, timeframe) if self.positions else None
        if served is None:
            return None
        return await self.store.last_ts(SeriesKey(self.exchange, symbol, timeframe), before=served + 1)

    async def stream(
        self, symbols: Sequence[str], timeframe: str, *, after: Mapping[str, int] | None = None
    ) -> AsyncIterator[CandleUpdate]:
        """Every stored bar from ``start`` on (after the last bar served, when that is later), all
        symbols in time order, each forming tick by tick (``after`` is ignored: a replay plays stored
        bars, it has none to fill)."""
        start = self.start
        served = await self.positions.served(self.exchange, timeframe) if self.positions else None
        if served is not None:
            resume = served + timeframe_ms(timeframe)
            if start is None or start < resume:
                log.info("replay resumes after the last bar it served, %s", iso_ms(served))
                start = resume
        series = {
            symbol: await self.store.read_matrix(SeriesKey(self.exchange, symbol, timeframe), start=start)
            for symbol in symbols
        }
        stamps = np.unique(np.concatenate([m[:, 0] for m in series.values()])) if series else np.empty(0)
        self.ended = None
        position = dict.fromkeys(symbols, 0)
        rng = np.random.default_rng(0)
        tick_seconds = timeframe_ms(timeframe) / 1000 / self.speed / self.ticks_per_bar
        for ts in stamps:
            bars = []
            for symbol in symbols:
                matrix, i = series[symbol], position[symbol]
                if i < len(matrix) and matrix[i, 0] == ts:
                    bars.append((symbol, matrix[i]))
                    position[symbol] = i + 1
            paths = [intrabar_path(b[1], b[2], b[3], b[4], self.ticks_per_bar, rng) for _, b in bars]
            if self.positions is not None:
                await self.positions.record(self.exchange, timeframe, int(ts))
            for tick in range(self.ticks_per_bar):
                await self._sleep(tick_seconds)
                for (symbol, bar), path in zip(bars, paths, strict=True):
                    yield forming_update(symbol, timeframe, bar, path, tick)
            served = int(ts)
        if served is not None:
            last = f"the last opened {iso_ms(served)}"
        else:
            last = f"none is stored from {iso_ms(start)}" if start is not None else "none is stored"
        self.ended = (
            f"replay ended: every stored {self.exchange} {timeframe} bar has been served ({last}); "
            "market time stands still until newer candles are stored (`mt data import`) and the daemon "
            "is restarted"
        )
        log.warning("%s", self.ended)

    async def close(self) -> None:
        """Nothing to release: the store belongs to the caller."""
