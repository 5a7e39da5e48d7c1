"""The replay venue: stored candles played back as a live feed, for paper trading on history and
for demos. Bars are shown forming tick by tick (``ticks.py``) at ``speed`` market seconds per wall
second; the stream ends when the stored history does, and ``ended`` then says so (``mt status``).

Market time never goes back: with ``positions`` (the daemon's), each bar is recorded before its first
tick is shown (``replay_position.py``) and a restarted replay resumes after the recorded bar, never from
the first stored candle, so an order placed before the restart fills only at bars after it was placed.
A bar cut short by a crash is not shown again (its stored candle is still there for the strategies'
bar clock). ``start`` applies when it is later than that; replaying from the beginning again takes a
new workspace (README, "Replay"). Nor does a change of source take it back: a replay whose first bar
would open before the market time the workspace reached on another exchange or timeframe is refused at
start-up (``_start``), and so is one whose first bar opens before the workspace's newest order, fill,
equity mark or ledger entry (made on the simulated market or an exchange: ``traded_time.py``).

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
from mastertrade.engine.market.traded_time import latest_traded
from mastertrade.engine.market.venue import CandleUpdate
from mastertrade.errors import UserInputError
from mastertrade.utc import iso_ms

if TYPE_CHECKING:
    from mastertrade.engine.market.replay_position import Reached, ReplayPositions
    from mastertrade.engine.market.traded_time import Traded

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

    async def resume_time(self, symbols: Sequence[str], timeframe: str) -> int | None:
        """Market time where the replay stands (epoch ms) before its first price: the close of the last
        bar served in this workspace (of any replayed exchange and timeframe: this one may have served
        none yet), or before any (or when a later ``replay_start`` skips ahead), the open of the first bar
        it will play; None with nothing to play.
        The daemon's market clocks start there, not on the wall clock, so what runs before the first
        replayed price (or after the stored bars ran out) keeps the replay's time."""
        reached = await self.positions.reached() if self.positions else None
        start, _ = await self._start(symbols, timeframe)
        first = await self._first_bar(symbols, timeframe, start)
        # a later replay_start skips ahead: market time is then where the replay goes on, not where it was
        return max((at for at in (reached.close if reached else None, first) if at is not None), default=None)

    async def _first_bar(self, symbols: Sequence[str], timeframe: str, start: int | None) -> int | None:
        """Open time of the first stored bar of any of ``symbols`` from ``start`` on."""
        firsts = [
            await self.store.first_ts(SeriesKey(self.exchange, symbol, timeframe), start=start)
            for symbol in symbols
        ]
        return min((ts for ts in firsts if ts is not None), default=None)

    async def check_start(self, symbols: Sequence[str], timeframe: str) -> None:
        """Refuse (``UserInputError``) a replay whose first bar would take the workspace's market time
        back (see ``_start``); the daemon calls it at start-up, before any service runs."""
        await self._start(symbols, timeframe)

    async def _start(self, symbols: Sequence[str], timeframe: str) -> tuple[int | None, bool]:
        """Where the stream starts (``start``, or after the last bar this replay served when that is
        later) and whether it resumes after that bar.

        Market time never goes back, not even across a change of ``[market] replay_exchange`` or
        ``timeframe``: when the first bar to play opens before the close of the latest bar any replay
        served in this workspace, the paper book, the ledger and the bar clock would see time run
        backwards, so the replay is refused, naming both times and the two ways on: a ``replay_start``
        at that close (go on from there), or a new workspace (play the new source from its start).
        Nothing stored changes."""
        start, resumes = self.start, False
        served = await self.positions.served(self.exchange, timeframe) if self.positions else None
        if served is not None:
            resume = served + timeframe_ms(timeframe)
            if start is None or start < resume:
                start, resumes = resume, True
        reached = await self.positions.reached() if self.positions else None
        if reached is not None and (start is None or start < reached.close):
            first = await self._first_bar(symbols, timeframe, start)
            if first is not None and first < reached.close:
                raise UserInputError(self._going_back(timeframe, first, reached))
        traded = await latest_traded(self.positions.db) if self.positions else None
        if traded is not None and (start is None or start < traded.at):
            first = await self._first_bar(symbols, timeframe, start)
            if first is not None and first < traded.at:
                raise UserInputError(self._before_trading(timeframe, first, traded))
        return start, resumes

    def _before_trading(self, timeframe: str, first: int, traded: Traded) -> str:
        """Why a replay may not start before the workspace's newest order, fill, equity mark or ledger entry
        (made on the simulated market or an exchange, on their market time): its orders would fill on bars
        before them, its books' equity history would run backwards."""
        at = iso_ms(traded.at)
        return (
            f'[market] venue = "replay" of {self.exchange} would take market time back: its first '
            f"{timeframe} bar to play opens at {iso_ms(first)}, before {at}, when this workspace's newest "
            f"{traded.said()}, and its orders, fills and books would see time run backwards. To go on "
            f'from there, set [market] replay_start = "{at}"; to replay {self.exchange} from its first '
            "candle, use a new workspace (another MT_HOME or [db] url). Nothing stored was changed"
        )

    def _going_back(self, timeframe: str, first: int, reached: Reached) -> str:
        changed = [
            *([f'[market] replay_exchange = "{self.exchange}"'] if self.exchange != reached.exchange else []),
            *([f'[market] timeframe = "{timeframe}"'] if timeframe != reached.timeframe else []),
        ]
        at = iso_ms(reached.close)
        return (
            f"{' with '.join(changed) or 'this replay'} would take market time back: its first {timeframe} "
            f"bar to play opens at {iso_ms(first)}, before {at}, the market time this workspace reached "
            f"replaying {reached.exchange} {reached.timeframe}, and its orders, fills and books would see "
            f'time run backwards. To go on from there, set [market] replay_start = "{at}"; to replay '
            f"{self.exchange} from its first candle, use a new workspace (another MT_HOME or [db] url). "
            "Nothing stored was changed"
        )

    async def last_served(self, symbol: str, timeframe: str) -> int | None:
        """Open time of the newest bar of ``symbol`` this replay has served (after a skip ahead with a later
        ``replay_start``, the newest stored before that start), None before any: the last closed bar a
        restarted daemon shows (``mt status``). The store's newest bar is the end of the
        stored history, a bar the replay has yet to play."""
        served = await self.positions.served(self.exchange, timeframe) if self.positions else None
        if served is None:
            return None
        key = SeriesKey(self.exchange, symbol, timeframe)
        start, resumes = await self._start([symbol], timeframe)
        if not resumes and start is not None:
            # a later replay_start skipped the bars after the last one served: the market stands at the
            # bar before the first it will play, not at the bar it served before the skip
            return await self.store.last_ts(key, before=start)
        return await self.store.last_ts(key, before=served + 1)

    async def stream(
        self, symbols: Sequence[str], timeframe: str, *, after: Mapping[str, int] | None = None
    ) -> AsyncIterator[CandleUpdate]:
        """Every stored bar from ``start`` on (after the last bar served, when that is later), all
        symbols in time order, each forming tick by tick (``after`` is ignored: a replay plays stored
        bars, it has none to fill)."""
        start, resumes = await self._start(symbols, timeframe)
        served = await self.positions.served(self.exchange, timeframe) if self.positions else None
        if not resumes:
            served = None  # a later start: the bars before it were skipped, not served
        elif served is not None:
            log.info("replay resumes after the last bar it served, %s", iso_ms(served))
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
        series_name = f"{self.exchange} {timeframe}"
        if served is not None:
            why = f"every stored {series_name} bar has been served (the last opened {iso_ms(served)})"
        elif start is not None:
            why = f"no {series_name} bar is stored from {iso_ms(start)} on"
        else:
            why = f"no {series_name} bar is stored"
        self.ended = (
            f"replay ended: {why}; market time stands still until newer candles are stored "
            "(`mt data import`) and the daemon is restarted"
        )
        log.warning("%s", self.ended)

    async def close(self) -> None:
        """Nothing to release: the store belongs to the caller."""
