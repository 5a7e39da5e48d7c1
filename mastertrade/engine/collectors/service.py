"""The collector service: polls every enabled source on its own schedule, stores what it returns, and
keeps each source's health. Nothing a source does can crash it.

Per poll of one source: clear its partial-failure notes, run ``collect`` under the source's timeout,
upsert the points, and record the outcome. A failure (timeout, network, 5xx, 429, malformed payload, a
bug in a plugin) makes the source ``stale`` (``error`` when retrying cannot help, as with a refused key),
restores its private state to what it was before the poll (so items are not marked seen without being
stored), and schedules the next try by exponential backoff with jitter, never sooner than a 429's
Retry-After. The first success after failures makes it ``ok`` again. Every change of state is handed to
``on_event`` as a ``SourceStateChanged`` (the daemon publishes it on its bus as an alert) and logged.
Health and collector state are persisted after every poll, so ``mt data sources`` works without the
daemon and a restart resumes where the last run stopped. The writes of a poll happen inside ``work``
(the daemon passes ``ctx.work``), so a stopping daemon lets them finish and starts no new ones.

``clock`` and ``sleep`` are the schedule's time: the wall clock by default; the daemon on a simulated
venue passes market time (``kernel.clock.MarketTime``), so a source polled every minute is polled every
simulated minute, and its values are stamped with the simulated time they belong to.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import httpx

from mastertrade import __version__
from mastertrade.engine.collectors.base import Collector, FeaturePoint
from mastertrade.engine.collectors.events import SourceStateChanged, WhaleSpotted
from mastertrade.engine.collectors.health import SourceHealth, SourceState
from mastertrade.engine.collectors.registry import build_collectors
from mastertrade.engine.collectors.store import FeatureStore, newest_values
from mastertrade.engine.market.timeframes import now_ms
from mastertrade.errors import FatalError, MasterTradeError, OperationFailed

if TYPE_CHECKING:
    from mastertrade.config import CollectorsSettings
    from mastertrade.db.database import Database

log = logging.getLogger("mastertrade.collectors")

NOT_COLLECTED = "never collected yet: start the daemon, or run `mt data sources --refresh`"
USER_AGENT = f"mastertrade/{__version__} (alternative-data collector)"
REQUEST_TIMEOUT_S = 30.0

EventSink = Callable[[SourceStateChanged | WhaleSpotted], Any]


def _base_health(collector: Collector) -> SourceHealth:
    reason = collector.disabled_reason()
    return SourceHealth(
        source=collector.name,
        state=SourceState.DISABLED if reason else SourceState.STALE,
        reason=reason or NOT_COLLECTED,
        description=collector.description,
        interval_s=collector.interval_s,
        needs_key=collector.needs_key,
        key_configured=collector.key is not None,
    )


def merge_health(collector: Collector, persisted: SourceHealth | None) -> SourceHealth:
    """A source's health from what was persisted and what the config says now (config wins: a source
    switched off, or without its key, is disabled whatever it was before)."""
    base = _base_health(collector)
    if base.state is SourceState.DISABLED or persisted is None:
        return base
    if persisted.state is SourceState.DISABLED:
        # It was disabled and now may run: nothing is known about it yet, only its past values.
        return replace(base, last_success=persisted.last_success, last_values=persisted.last_values)
    return replace(
        persisted,
        description=base.description,
        interval_s=base.interval_s,
        needs_key=base.needs_key,
        key_configured=base.key_configured,
    )


def describe_failure(exc: BaseException, timeout_s: float) -> str:
    """One line for a failed poll; keys never appear (our messages name hosts and paths only)."""
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout_s:g} s"
    if isinstance(exc, MasterTradeError):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc}"


@asynccontextmanager
async def _no_work(name: str) -> AsyncIterator[None]:
    yield


def failure_state(exc: BaseException) -> SourceState:
    """``error`` when retrying cannot help until someone acts (a refused key, a bug in the collector),
    ``stale`` for everything transient or external (network, timeouts, 5xx, 429, malformed payloads)."""
    if isinstance(exc, FatalError):
        return SourceState.ERROR
    if isinstance(exc, MasterTradeError | TimeoutError):
        return SourceState.STALE
    return SourceState.ERROR


class CollectorService:
    """Runs the collectors of one installation (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        settings: CollectorsSettings,
        *,
        collectors: Sequence[Collector] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        on_event: EventSink | None = None,
        clock: Callable[[], int] = now_ms,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        work: Callable[[str], AbstractAsyncContextManager[Any]] | None = None,
    ) -> None:
        self.settings = settings
        self.store = FeatureStore(db)
        self.collectors = list(collectors) if collectors is not None else build_collectors(settings)
        self.transport = transport
        self.on_event = on_event
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.work = work or _no_work
        self._health: dict[str, SourceHealth] = {c.name: _base_health(c) for c in self.collectors}
        self._client: httpx.AsyncClient | None = None
        self._started = False

    def health(self) -> list[SourceHealth]:
        """Every source's health as of now (an ``ok`` source silent for too long shows as stale)."""
        now = self.clock()
        return [self._health[c.name].effective(now) for c in self.collectors]

    def enabled(self) -> list[Collector]:
        return [c for c in self.collectors if c.disabled_reason() is None]

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self.transport,
                timeout=httpx.Timeout(REQUEST_TIMEOUT_S),
                follow_redirects=True,
                headers={"User-Agent": USER_AGENT},
            )
        return self._client

    async def start(self) -> None:
        """Load persisted health and collector state; record disabled sources. Idempotent."""
        if self._started:
            return
        self._started = True
        try:
            persisted = await self.store.load_health()
        except Exception as exc:  # the database being away must not stop collection
            log.warning("collectors: cannot load source health: %s: %s", type(exc).__name__, exc)
            persisted = {}
        for collector in self.collectors:
            health, state = persisted.get(collector.name, (None, {}))
            self._health[collector.name] = merge_health(collector, health)
            if state:
                try:
                    collector.load_state(state)
                except Exception as exc:
                    log.warning("collectors: %s ignored its saved state: %s", collector.name, exc)
            if self._health[collector.name].state is SourceState.DISABLED:
                await self._save(collector, self._health[collector.name], with_state=False)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def poll(self, collector: Collector) -> SourceHealth:
        """Poll one source once and record the outcome. Never raises, except on cancellation and when
        the daemon is stopping (``work`` refuses new work)."""
        now = self.clock()
        previous = self._health.get(collector.name) or _base_health(collector)
        disabled = collector.disabled_reason()
        if disabled:
            health = replace(_base_health(collector), last_success=previous.last_success)
            return await self._record(collector, previous, health)
        collector.problems = []
        before = self._dump(collector)
        points: list[FeaturePoint] = []
        failure: BaseException | None = None
        try:
            async with asyncio.timeout(collector.timeout_s):
                points = await collector.collect(self.client(), now)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a source must never take the service down, whatever it raises
            failure = exc
        async with self.work(f"collect:{collector.name}"):
            if failure is None:
                try:
                    await self._store(collector, points, now, previous.last_success)
                except OperationFailed as exc:
                    failure = exc
                else:
                    for whale in self._whales(collector, points):
                        await self._emit(whale)
            if failure is not None:
                self._restore(collector, before)
                health = self._failed(collector, previous, now, failure)
            else:
                health = replace(
                    previous,
                    state=SourceState.OK,
                    reason="; ".join(collector.problems) or None,
                    since=previous.since if previous.state is SourceState.OK and previous.since else now,
                    last_success=now,
                    last_attempt=now,
                    failures=0,
                    last_values=newest_values(points, known=previous.last_values) or previous.last_values,
                    next_poll=now + int(collector.interval_s * 1000),
                )
            return await self._record(collector, previous, health)

    def _failed(
        self, collector: Collector, previous: SourceHealth, now: int, exc: BaseException
    ) -> SourceHealth:
        if not isinstance(exc, MasterTradeError | TimeoutError):
            log.warning("collectors: %s raised unexpectedly", collector.name, exc_info=exc)
        failures = previous.failures + 1
        state = failure_state(exc)
        delay = collector.backoff.delay(failures, self.rng.random)
        retry_after_s = getattr(exc, "retry_after_s", None)
        if retry_after_s is not None:  # a server that said when to come back is obeyed, past our cap too
            delay = max(delay, retry_after_s)
        return replace(
            previous,
            state=state,
            reason=describe_failure(exc, collector.timeout_s),
            since=previous.since if previous.state is state and previous.since else now,
            last_attempt=now,
            failures=failures,
            next_poll=now + int(delay * 1000),
        )

    async def _store(
        self, collector: Collector, points: list[FeaturePoint], now: int, polled_at: int | None
    ) -> None:
        try:
            await self.store.upsert(
                collector.name, points, seen_at=now, polled_at=polled_at, origin=collector.derived_from
            )
        except Exception as exc:  # the driver's errors have no common base; a full disk is transient
            reason = str(exc).splitlines()[0] if str(exc) else ""
            raise OperationFailed(f"cannot store values: {type(exc).__name__}: {reason}") from exc

    def _whales(self, collector: Collector, points: list[FeaturePoint]) -> list[WhaleSpotted]:
        """One ``WhaleSpotted`` per newly stored block with a transaction above the whale threshold (the
        ``whale`` alert rule, on by default, turns each into an alert)."""
        threshold = self.settings.whale_threshold_usd
        by_block: dict[tuple[str, int], dict[str, float]] = {}
        for point in points:
            if point.name in ("whale_tx_count", "whale_volume_usd", "whale_max_usd"):
                by_block.setdefault((point.symbol, point.ts), {})[point.name] = point.value
        return [
            WhaleSpotted(
                source=collector.name,
                symbol=symbol,
                block_ts=ts,
                count=int(values.get("whale_tx_count", 1)),
                volume_usd=values.get("whale_volume_usd", values["whale_max_usd"]),
                max_usd=values["whale_max_usd"],
                threshold_usd=threshold,
            )
            for (symbol, ts), values in sorted(by_block.items(), key=lambda item: item[0][1])
            if values.get("whale_max_usd", 0.0) >= threshold
        ]

    async def _record(
        self, collector: Collector, previous: SourceHealth, health: SourceHealth
    ) -> SourceHealth:
        self._health[collector.name] = health
        await self._save(collector, health, with_state=health.state is SourceState.OK)
        # A source never polled has only a placeholder state: its first failure is news (previous
        # None), its first success is not.
        fresh = previous.last_attempt is None
        if fresh:
            changed = health.last_attempt is not None and health.state in (
                SourceState.STALE,
                SourceState.ERROR,
            )
        else:
            changed = previous.state is not health.state
        if changed:
            event = SourceStateChanged(
                source=collector.name,
                previous=None if fresh else str(previous.state),
                state=str(health.state),
                reason=health.reason,
                at=(health.last_attempt or self.clock()) / 1000,
            )
            level = logging.WARNING if event.degraded else logging.INFO
            log.log(level, "collectors: %s", event.message())
            await self._emit(event)
        return health

    async def _save(self, collector: Collector, health: SourceHealth, *, with_state: bool) -> None:
        try:
            await self.store.save_health(health, self._dump(collector) if with_state else None)
        except Exception as exc:  # losing one health record is better than stopping collection
            log.warning(
                "collectors: cannot save health of %s: %s: %s", collector.name, type(exc).__name__, exc
            )

    async def _emit(self, event: SourceStateChanged | WhaleSpotted) -> None:
        if self.on_event is None:
            return
        try:
            result = self.on_event(event)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            log.warning("collectors: event handler failed: %s: %s", type(exc).__name__, exc)

    @staticmethod
    def _dump(collector: Collector) -> dict[str, Any]:
        try:
            return collector.dump_state()
        except Exception as exc:
            log.warning("collectors: %s cannot dump its state: %s", collector.name, exc)
            return {}

    @staticmethod
    def _restore(collector: Collector, state: dict[str, Any]) -> None:
        try:
            collector.load_state(state)
        except Exception as exc:
            log.warning("collectors: %s cannot restore its state: %s", collector.name, exc)

    async def poll_all(self, names: Iterable[str] | None = None) -> list[SourceHealth]:
        """Poll the enabled sources (or the named ones) once, concurrently; return every source's health."""
        await self.start()
        wanted = set(names) if names is not None else None
        chosen = [c for c in self.enabled() if wanted is None or c.name in wanted]
        await asyncio.gather(*(self.poll(c) for c in chosen))
        return self.health()

    async def run(self) -> None:
        """Poll every enabled source on its schedule until cancelled."""
        await self.start()
        try:
            async with asyncio.TaskGroup() as group:
                for collector in self.enabled():
                    group.create_task(self._loop(collector), name=f"collector:{collector.name}")
        finally:
            await self.close()

    async def _loop(self, collector: Collector) -> None:
        next_poll = self._health[collector.name].next_poll
        delay = max(0.0, (next_poll - self.clock()) / 1000) if next_poll else 0.0
        while True:
            await self.sleep(delay)
            health = await self.poll(collector)
            delay = max(0.0, ((health.next_poll or 0) - self.clock()) / 1000)
