"""The engine's clocks: wall time in UTC and sleeping, behind one small interface so the scheduler,
alert quiet hours and retry backoff can run on a fake clock in tests (``FakeClock``) and on the real
one (``SystemClock``) in the daemon; and market time (``MarketTime``), which the scheduler, the
collectors and the trading core run on when the venue is simulated (``EngineContext.market_clock``)."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""
        ...


class SystemClock:
    """Real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that moves only when told (``advance``/``set``); sleepers wake when their time comes.

    ``sleep`` suspends the caller until the clock has been advanced past its deadline, so a test drives
    hours of scheduler time in microseconds and asserts on exactly what happened at each step.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._counter = itertools.count()

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + timedelta(seconds=seconds), next(self._counter), future))
        await future

    @property
    def sleepers(self) -> int:
        """How many callers are waiting on this clock (tests wait for this before advancing)."""
        return sum(1 for _, _, future in self._sleepers if not future.done())

    def next_wakeup(self) -> datetime | None:
        live = [when for when, _, future in self._sleepers if not future.done()]
        return min(live, default=None)

    async def advance(self, seconds: float) -> None:
        await self.set(self._now + timedelta(seconds=seconds))

    async def set(self, moment: datetime) -> None:
        """Move to ``moment``, waking sleepers in deadline order and letting each run before the next."""
        while self._sleepers and self._sleepers[0][0] <= moment:
            when, _, future = heapq.heappop(self._sleepers)
            self._now = max(self._now, when)
            if not future.done():
                future.set_result(None)
                for _ in range(5):  # let the woken task (and what it starts) run up to its next await
                    await asyncio.sleep(0)
        self._now = max(self._now, moment)
        await asyncio.sleep(0)


class MarketTime:
    """Market time of a simulated or replayed market, as a ``Clock``: what schedules, cool-downs and goal
    periods run on there, so a one-hour cool-down or an hourly job is one *simulated* hour however fast
    the market runs.

    ``now`` is the time of the newest price the feed delivered (``observe``); it never goes back. Before
    the first price it reads ``fallback`` (the wall clock). ``sleep(seconds)`` returns once market time has
    moved ``seconds`` on: nothing but the feed wakes a sleeper, so a paused or stopped simulation stops
    its schedules too, and a test drives them by observing prices, without sleeping. A sleep begun before
    the first price counts from the first price.

    The instance is also callable (``clock()`` is ``now()``), the shape the trading core takes.
    """

    def __init__(self, fallback: Clock | None = None) -> None:
        self.fallback = fallback or SystemClock()
        self.now_ms: int | None = None
        self._sleepers: list[tuple[int, int, asyncio.Future[None]]] = []
        self._unstarted: list[tuple[float, asyncio.Future[None]]] = []
        self._counter = itertools.count()

    def now(self) -> datetime:
        if self.now_ms is None:
            return self.fallback.now()
        return datetime.fromtimestamp(self.now_ms / 1000, tz=UTC)

    def __call__(self) -> datetime:
        return self.now()

    @property
    def started(self) -> bool:
        """Whether a price has been seen (before it, ``now`` is the wall clock's)."""
        return self.now_ms is not None

    def observe(self, at_ms: int) -> None:
        """A price at market time ``at_ms`` (epoch ms): move on to it and wake the sleepers it frees."""
        if self.now_ms is not None and at_ms <= self.now_ms:
            return
        self.now_ms = at_ms
        for seconds, future in self._unstarted:
            if not future.done():
                heapq.heappush(self._sleepers, (at_ms + round(seconds * 1000), next(self._counter), future))
        self._unstarted.clear()
        while self._sleepers and self._sleepers[0][0] <= at_ms:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.now_ms is None:
            self._unstarted.append((seconds, future))
        else:
            deadline = self.now_ms + round(seconds * 1000)
            heapq.heappush(self._sleepers, (deadline, next(self._counter), future))
        await future

    @property
    def sleepers(self) -> int:
        """How many callers wait on market time (tests wait for this before moving the market)."""
        waiting = [future for _, _, future in self._sleepers] + [future for _, future in self._unstarted]
        return sum(1 for future in waiting if not future.done())
