"""The engine's clock: wall time in UTC and sleeping, behind one small interface so the scheduler,
alert quiet hours and retry backoff can run on a fake clock in tests (``FakeClock``) and on the real
one (``SystemClock``) in the daemon."""

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
