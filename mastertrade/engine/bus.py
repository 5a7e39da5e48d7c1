"""The in-process event bus: typed events from publishers to any number of async subscribers.

``publish`` is a plain (non-async) method that never waits: it stamps the event with a sequence number
and puts it into each matching subscriber's own bounded queue. A slow subscriber therefore never slows
a publisher or another subscriber, and memory stays bounded, by the event's ``delivery`` policy
(``events.Delivery``):

- ``LATEST`` events (price ticks, job progress) replace a queued event with the same coalesce key, so
  a subscriber that falls behind sees the newest price once instead of every stale one. Only an event
  queued after the last non-``LATEST`` one is replaced: a newer tick never jumps ahead of a
  ``CandleClosed`` (or any other event) published before it, so every subscriber sees events in the
  order they were published (a tick of bar t+1 never arrives before the close of bar t);
- when a queue is full, the oldest droppable event (``LATEST`` or ``DROPPABLE``) makes room, and a new
  droppable event with no room is dropped; every drop is counted (``stats.dropped``);
- ``RELIABLE`` events (orders, fills, risk, alerts) are never dropped: a full queue may grow to
  ``RELIABLE_HEADROOM`` times its size for them; a subscriber that falls even further behind is cut off
  (``SubscriptionOverflow`` once it has drained its queue), so it knows it missed something and can
  resynchronise (the SSE endpoint tells its client with a ``stream.gap`` event; the client resumes from
  the bus history with Last-Event-ID).

The bus keeps the last ``history`` non-``LATEST`` events so a reconnecting stream can resume where it
left off (``replay``). Every delivery records its lag (publish to ``get``) in ``stats``, which the
status endpoint and the Prometheus metrics report.

Use it:

    sub = ctx.bus.subscribe({"order", "risk.breached"}, name="my-service")
    async with sub:
        async for event in sub:
            ...
    ctx.bus.publish(OrderFilled(...))
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Hashable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from mastertrade.engine.events import Delivery, Event, matches

RELIABLE_HEADROOM = 4
LAG_BUCKETS_S = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)


class SubscriptionClosed(Exception):
    """The subscription was closed (by its owner or because the bus shut down)."""


class SubscriptionOverflow(SubscriptionClosed):
    """The subscriber fell so far behind that reliable events could not be kept for it."""


@dataclass(slots=True)
class Envelope:
    """An event as delivered: its bus sequence number and when it was published (monotonic ns)."""

    seq: int
    event: Event
    published_ns: int


class _Slot:
    __slots__ = ("envelope", "key")

    def __init__(self, envelope: Envelope, key: Hashable | None) -> None:
        self.envelope = envelope
        self.key = key


@dataclass
class LagStats:
    """Publish-to-delivery lag: a cumulative histogram (for Prometheus) and a window of recent values."""

    buckets: tuple[float, ...] = LAG_BUCKETS_S
    counts: list[int] = field(default_factory=lambda: [0] * (len(LAG_BUCKETS_S) + 1))
    total_s: float = 0.0
    count: int = 0
    max_s: float = 0.0
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=4096))

    def record(self, lag_s: float) -> None:
        self.counts[bisect_left(self.buckets, lag_s)] += 1
        self.total_s += lag_s
        self.count += 1
        self.max_s = max(self.max_s, lag_s)
        self.recent.append(lag_s)

    def quantiles(self, *qs: float) -> list[float | None]:
        if not self.recent:
            return [None for _ in qs]
        ordered = sorted(self.recent)
        return [ordered[min(len(ordered) - 1, int(q * len(ordered)))] for q in qs]

    def summary(self) -> dict[str, float | int | None]:
        """Lag in milliseconds over the recent window, and the maximum ever seen."""
        p50, p99 = self.quantiles(0.5, 0.99)
        return {
            "p50_ms": None if p50 is None else round(p50 * 1000, 3),
            "p99_ms": None if p99 is None else round(p99 * 1000, 3),
            "max_ms": round(self.max_s * 1000, 3),
            "delivered": self.count,
        }


@dataclass
class BusStats:
    published: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    coalesced: int = 0
    overflows: int = 0
    lag: LagStats = field(default_factory=LagStats)


class Subscription:
    """One subscriber's queue. Iterate it (``async for event in sub``) or call ``get``/``get_envelope``."""

    def __init__(self, bus: EventBus, patterns: frozenset[str] | None, maxsize: int, name: str) -> None:
        self.bus = bus
        self.patterns = patterns
        self.maxsize = max(1, maxsize)
        self.name = name
        self.dropped = 0
        self.coalesced = 0
        self.max_lag_s = 0.0
        self.closed = False
        self.overflowed = False
        self._queue: deque[_Slot] = deque()
        self._latest: dict[Hashable, _Slot] = {}
        self._droppable = 0
        self._waiter: asyncio.Future[None] | None = None
        self._selects: dict[str, bool] = {}

    def __repr__(self) -> str:
        return f"<Subscription {self.name!r} depth={len(self._queue)} dropped={self.dropped}>"

    @property
    def depth(self) -> int:
        return len(self._queue)

    def selects(self, event_type: str) -> bool:
        found = self._selects.get(event_type)
        if found is None:
            found = self._selects[event_type] = matches(event_type, self.patterns)
        return found

    # --- producer side (called by EventBus.publish, in the loop's thread) -----------------------

    def _offer(self, envelope: Envelope) -> None:
        if self.closed:
            return
        event = envelope.event
        policy = event.delivery
        key: Hashable | None = None
        if policy is Delivery.LATEST:
            key = (event.type, event.coalesce_key())
            slot = self._latest.get(key)
            if slot is not None:
                slot.envelope = envelope
                self.coalesced += 1
                self.bus.stats.coalesced += 1
                return
        elif self._latest:
            # Anything queued behind a coalescable event must not be overtaken by a later version of it.
            self._latest.clear()
        if len(self._queue) >= self.maxsize and not self._make_room(policy):
            if policy is not Delivery.RELIABLE:
                self._count_drop(event.type)
                return
            if len(self._queue) >= self.maxsize * RELIABLE_HEADROOM:
                self.overflowed = True
                self.bus.stats.overflows += 1
                self.close()
                return
        slot = _Slot(envelope, key)
        self._queue.append(slot)
        if key is not None:
            self._latest[key] = slot
        if policy is not Delivery.RELIABLE:
            self._droppable += 1
        self._wake()

    def _make_room(self, policy: Delivery) -> bool:
        """Drop the oldest droppable event; False when every queued event is reliable."""
        if not self._droppable:
            return False
        for index, slot in enumerate(self._queue):
            if slot.envelope.event.delivery is not Delivery.RELIABLE:
                del self._queue[index]
                self._forget(slot)
                self._count_drop(slot.envelope.event.type)
                return True
        return False

    def _forget(self, slot: _Slot) -> None:
        if slot.envelope.event.delivery is not Delivery.RELIABLE:
            self._droppable -= 1
        if slot.key is not None and self._latest.get(slot.key) is slot:
            del self._latest[slot.key]

    def _count_drop(self, event_type: str) -> None:
        self.dropped += 1
        self.bus.stats.dropped[event_type] += 1

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- consumer side ---------------------------------------------------------------------------

    async def get_envelope(self, wait_s: float | None = None) -> Envelope:
        """The next event with its sequence number; ``TimeoutError`` after ``wait_s`` seconds without
        one; ``SubscriptionClosed`` (or ``SubscriptionOverflow``) once closed and drained."""
        while not self._queue:
            if self.closed:
                raise SubscriptionOverflow(self.name) if self.overflowed else SubscriptionClosed(self.name)
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                if wait_s is None:
                    await self._waiter
                else:
                    await asyncio.wait_for(self._waiter, wait_s)
            finally:
                self._waiter = None
        slot = self._queue.popleft()
        self._forget(slot)
        envelope = slot.envelope
        lag = (self.bus._clock_ns() - envelope.published_ns) / 1e9
        self.max_lag_s = max(self.max_lag_s, lag)
        self.bus.stats.lag.record(lag)
        return envelope

    def drain(self, limit: int) -> list[Envelope]:
        """Up to ``limit`` envelopes already queued, without waiting (for batching writes)."""
        taken: list[Envelope] = []
        now = self.bus._clock_ns()
        while self._queue and len(taken) < limit:
            slot = self._queue.popleft()
            self._forget(slot)
            lag = (now - slot.envelope.published_ns) / 1e9
            self.max_lag_s = max(self.max_lag_s, lag)
            self.bus.stats.lag.record(lag)
            taken.append(slot.envelope)
        return taken

    async def get(self, wait_s: float | None = None) -> Event:
        return (await self.get_envelope(wait_s)).event

    def get_nowait(self) -> Event | None:
        """The next queued event, or None when the queue is empty (no lag is recorded)."""
        if not self._queue:
            return None
        slot = self._queue.popleft()
        self._forget(slot)
        return slot.envelope.event

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            try:
                yield await self.get()
            except SubscriptionOverflow:
                raise
            except SubscriptionClosed:
                return

    def close(self) -> None:
        """Stop receiving; events already queued can still be drained."""
        if not self.closed:
            self.closed = True
            self.bus._remove(self)
            self._wake()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def info(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "types": sorted(self.patterns) if self.patterns is not None else ["*"],
            "depth": len(self._queue),
            "dropped": self.dropped,
            "coalesced": self.coalesced,
            "max_lag_ms": round(self.max_lag_s * 1000, 3),
        }


class EventBus:
    """Fan-out of events to subscribers (see the module docstring)."""

    def __init__(
        self,
        *,
        history: int = 2048,
        default_maxsize: int = 1000,
        clock_ns: Callable[[], int] = time.perf_counter_ns,
    ) -> None:
        self.default_maxsize = default_maxsize
        self.stats = BusStats()
        self._clock_ns = clock_ns
        self._subscriptions: list[Subscription] = []
        self._seq = 0
        self._history: deque[Envelope] = deque(maxlen=history)
        self._history_floor = 0  # events with seq <= this may have left the history

    @property
    def last_seq(self) -> int:
        return self._seq

    @property
    def subscriptions(self) -> list[Subscription]:
        return list(self._subscriptions)

    def publish(self, event: Event) -> int:
        """Deliver ``event`` to every matching subscriber without waiting; returns its sequence number."""
        self._seq += 1
        envelope = Envelope(self._seq, event, self._clock_ns())
        self.stats.published[event.type] += 1
        if event.delivery is not Delivery.LATEST:
            if len(self._history) == self._history.maxlen:
                self._history_floor = self._history[0].seq
            self._history.append(envelope)
        for subscription in self._subscriptions:
            if subscription.selects(event.type):
                subscription._offer(envelope)
        return self._seq

    def subscribe(
        self, types: Iterable[str] | None = None, *, name: str = "", maxsize: int | None = None
    ) -> Subscription:
        """A new subscription to the types named (areas like "order" or exact types); None means all."""
        patterns = frozenset(types) if types is not None else None
        subscription = Subscription(self, patterns, maxsize or self.default_maxsize, name)
        self._subscriptions.append(subscription)
        return subscription

    def replay(self, after_seq: int, subscription: Subscription) -> list[Envelope] | None:
        """The kept events after ``after_seq`` that ``subscription`` selects, oldest first; None when
        some of them already left the history (the caller must resynchronise another way)."""
        if after_seq < self._history_floor:
            return None
        return [
            envelope
            for envelope in self._history
            if envelope.seq > after_seq and subscription.selects(envelope.event.type)
        ]

    def close(self) -> None:
        """Close every subscription (at daemon stop): their consumers drain and then stop."""
        for subscription in list(self._subscriptions):
            subscription.close()

    def _remove(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)

    def info(self) -> dict[str, Any]:
        """What the status endpoint reports about the bus."""
        depths = [subscription.depth for subscription in self._subscriptions]
        return {
            "published": sum(self.stats.published.values()),
            "dropped": sum(self.stats.dropped.values()),
            "coalesced": self.stats.coalesced,
            "overflows": self.stats.overflows,
            "subscribers": len(self._subscriptions),
            "max_queue_depth": max(depths, default=0),
            "lag": self.stats.lag.summary(),
        }
