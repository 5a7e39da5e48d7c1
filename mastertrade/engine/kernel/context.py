"""What every daemon service shares: the ``Service`` interface, the ``EngineContext`` it runs with and
the scheduler's ``JobRegistry`` the context carries (jobs are functions of the context).

A service is any object with a ``name`` and an ``async run(ctx)`` that works until it is cancelled (or
returns when it has nothing more to do). The supervisor (``supervisor.py``) runs each one as a task and
restarts it with backoff when it raises. Rules a service follows:

- Long-lived loops just loop; the supervisor cancels them at stop. Work that must not be cut in half
  (storing a candle, sending an order, recording a job run) goes inside ``async with ctx.work("what"):``.
  On stop the daemon waits (up to ``[daemon] stop_timeout_s``) for every such block to finish before
  it cancels anything, and ``ctx.work`` refuses to start new work once stopping (it raises
  ``ServiceStopping``, which the supervisor treats as a clean exit).
- Share objects with other services and API routes through ``ctx.provide(obj)`` / ``ctx.get(Type)``
  (the trading service provides its broker, routes look it up), not through globals.
- Publish what happened on ``ctx.bus``; alerts, the event stream and metrics follow from it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from mastertrade import __version__
from mastertrade.engine.events import JobProgress
from mastertrade.engine.kernel.run_words import Listed
from mastertrade.errors import NotFound

if TYPE_CHECKING:
    from mastertrade.config import Settings
    from mastertrade.db.database import Database
    from mastertrade.engine.alerts.manager import AlertManager
    from mastertrade.engine.bus import EventBus
    from mastertrade.engine.kernel.clock import Clock
    from mastertrade.engine.market.store import CandleStore
    from mastertrade.engine.market.venue import Venue

log = logging.getLogger(__name__)


class ServiceStopping(Exception):
    """Raised by ``ctx.work`` once the daemon is stopping: the service should return."""


@runtime_checkable
class Service(Protocol):
    """A long-running part of the daemon (market feed, scheduler, alerts, trading, ...)."""

    name: str

    async def run(self, ctx: EngineContext) -> None: ...


@dataclass
class ServiceStatus:
    """What the supervisor knows about one service (shown by ``mt status``)."""

    name: str
    state: str = "starting"
    restarts: int = 0
    started_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    backoff_s: float | None = None


@dataclass
class LastCandle:
    """The newest bar of a symbol the market feed saw: the forming one and the last closed one."""

    symbol: str
    timeframe: str
    price: float | None = None
    price_at: datetime | None = None
    closed_ts: int | None = None


@dataclass
class DaemonState:
    """Live facts about the running daemon, written by the supervisor and the services."""

    started_at: datetime
    pid: int = field(default_factory=os.getpid)
    version: str = __version__
    services: dict[str, ServiceStatus] = field(default_factory=dict)
    last_candles: dict[str, LastCandle] = field(default_factory=dict)
    inflight: Counter[str] = field(default_factory=Counter)
    recovered: bool = False
    """True when the previous daemon run ended without a clean stop (a crash or kill -9)."""
    started_monotonic: float = field(default_factory=time.monotonic)
    """The monotonic clock at the start: the uptime is measured on it, not on the wall clock, which the
    machine may set back or forward while the daemon runs."""

    @property
    def uptime_s(self) -> float:
        """Seconds since the daemon started, whatever the machine's clock did meanwhile."""
        return time.monotonic() - self.started_monotonic


@dataclass
class EngineContext:
    """Everything a service or an API route needs, built once by the daemon.

    ``venue`` is the live market source (``open_venue`` from the config); ``candles`` the store on
    ``db``; ``jobs`` the scheduler's job registry; ``alerts`` raises and delivers alerts. ``stopping`` is
    set when the daemon begins to stop.

    ``clock`` is the wall clock (log and alert times); ``market_clock`` is the market's time,
    which schedules, collectors, breaker cool-downs and goal periods run on: the same wall clock for a
    real exchange, the simulated time (``kernel.clock.MarketTime``, moved by the market feed) for a
    simulated or replayed venue, so an hourly job runs once per simulated hour in an accelerated demo.
    """

    settings: Settings
    db: Database
    bus: EventBus
    candles: CandleStore
    venue: Venue
    clock: Clock
    state: DaemonState
    jobs: JobRegistry
    alerts: AlertManager
    market_clock: Clock | None = None
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    stop_reason: str | None = None
    components: dict[type[Any], Any] = field(default_factory=dict)
    _idle: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self._idle.set()
        if self.market_clock is None:
            self.market_clock = self.clock

    @property
    def market_time(self) -> Clock:
        """``market_clock``, never None (see the class docstring)."""
        assert self.market_clock is not None
        return self.market_clock

    # --- work that must finish before the daemon stops -------------------------------------------

    @asynccontextmanager
    async def work(self, name: str) -> AsyncIterator[None]:
        """Mark a unit of work the daemon waits for at stop (see the module docstring)."""
        if self.stopping.is_set():
            raise ServiceStopping(name)
        self.state.inflight[name] += 1
        self._idle.clear()
        try:
            yield
        finally:
            self.state.inflight[name] -= 1
            if self.state.inflight[name] <= 0:
                del self.state.inflight[name]
            if not self.state.inflight:
                self._idle.set()

    async def wait_idle(self, deadline_s: float) -> bool:
        """Wait until no ``work`` block runs; False if some still run after ``deadline_s`` seconds."""
        try:
            await asyncio.wait_for(self._idle.wait(), deadline_s)
        except TimeoutError:
            return False
        return True

    def request_stop(self, reason: str) -> None:
        """Ask the daemon to stop (the API's /v1/daemon/stop, a signal, a fatal condition)."""
        if not self.stopping.is_set():
            self.stop_reason = reason
            self.stopping.set()

    # --- shared components -----------------------------------------------------------------------

    def provide[T](self, component: T, *, as_type: type[T] | None = None) -> T:
        """Make ``component`` available to other services and API routes under its type."""
        self.components[as_type or type(component)] = component
        return component

    def find[T](self, kind: type[T]) -> T | None:
        """The component provided under ``kind`` (or a subclass of it), or None."""
        found = self.components.get(kind)
        if found is None:
            found = next((item for key, item in self.components.items() if issubclass(key, kind)), None)
        return cast(T | None, found)

    def get[T](self, kind: type[T]) -> T:
        """Like ``find``, but a missing component is an error naming it."""
        found = self.find(kind)
        if found is None:
            from mastertrade.errors import OperationFailed

            raise OperationFailed(f"{kind.__name__} is not available in this daemon")
        return found


# --- jobs ------------------------------------------------------------------------------------------
# Jobs the scheduler can run, by name.
#
# A job is an async function ``job(ctx, run) -> dict | None``: ``ctx`` is the daemon's
# ``EngineContext``, ``run`` a ``JobRun`` handle for reporting progress (``run.progress(done, total,
# "message")`` publishes ``JobProgress`` events); the returned dict is stored as the run's result.
# Raising marks the run "error" (the message is stored); cancellation (the daemon's stop deadline)
# marks it "cancelled", so a long job should checkpoint its work in ``except CancelledError``/``finally``.
#
# Register a job in ``mastertrade.engine.services.build_jobs`` with one line:
#
#     jobs.add("nightly_generation", run_nightly_generation, "Generate, test and promote strategies")
#
# and give it a schedule in ``[scheduler] jobs`` (the default config already names nightly_generation,
# data_refresh, risk_metrics and goal_snapshots). ``available`` may say why a job cannot run in this
# configuration (e.g. data_refresh with a simulated venue): it then shows as unavailable and is skipped.
# ``paced=True`` marks a heavy job (generation, retraining): on simulated time its scheduled runs are at
# least ``[scheduler] simulated_min_gap_s`` of wall time apart (see the scheduler service).
# ``summarize`` says in words what an "ok" run did, from its result ("0 of 3 series searched (all skipped:
# ...)"): every place a trader reads the run (``mt status``, ``mt report``, ``mt daemon run``, the
# dashboard) shows ``Job.summary``, through the API's ``summary`` and the ``job.finished`` event, so a run
# that did nothing never reads as a bare "ok". The stored outcome stays "ok" for scripts. Words that end in
# a list (each skipped series and why) come as a ``run_words.Listed``, which the API also gives in parts
# (``summary_list``) so that a terminal line can shorten the list to its first item and "+N more".

JobFunc = Callable[["EngineContext", "JobRun"], Awaitable[dict[str, Any] | None]]
Availability = Callable[["EngineContext"], str | None]
Summarize = Callable[[Any], str | Listed | None]
"""What an "ok" run did, in words, from its stored result (JSON-plain, as ``job_runs`` holds it, possibly
from an older version: a shape it does not know gives ``None``, nothing to add); words ending in a list
of reasons as a ``Listed``."""


@dataclass(frozen=True)
class Job:
    name: str
    func: JobFunc
    description: str
    available: Availability | None = None
    paced: bool = False
    summarize: Summarize | None = None

    def unavailable_reason(self, ctx: EngineContext) -> str | None:
        return self.available(ctx) if self.available is not None else None

    def summary(self, outcome: str, result: Any) -> str:
        """A run's outcome as a trader reads it: ``ok: `` and what it did when it went well and its job
        says ("ok: 0 of 3 series searched (all skipped: ...)"), any other outcome as stored ("error",
        whose ``error`` says why)."""
        return self.listed(outcome, result).words()

    def listed(self, outcome: str, result: Any) -> Listed:
        """:meth:`summary` in its parts: what the run did, and the list its words end in, if any (each
        skipped series and why), for a line that shortens it (``Listed.fit``)."""
        if outcome != "ok" or self.summarize is None or result is None:
            return Listed(outcome)
        try:
            words = self.summarize(result)
        except (AttributeError, KeyError, TypeError, ValueError):
            # a result of a shape its words do not know (an older version's run): the outcome as stored;
            # neither `mt status` nor a run's end may fail over words
            log.warning("job %s: a run's result could not be put in words", self.name, exc_info=True)
            return Listed(outcome)
        if isinstance(words, Listed):
            return replace(words, said=f"{outcome}: {words.said}")
        return Listed(f"{outcome}: {words}" if words else outcome)


class JobRun:
    """The handle a running job reports through."""

    def __init__(self, ctx: EngineContext, job: str, run_id: int, trigger: str) -> None:
        self.ctx = ctx
        self.job = job
        self.run_id = run_id
        self.trigger = trigger

    def progress(self, done: float, total: float | None = None, message: str = "") -> None:
        self.ctx.bus.publish(
            JobProgress(job=self.job, run_id=self.run_id, done=done, total=total, message=message)
        )


class JobRegistry:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}

    def add(
        self,
        name: str,
        func: JobFunc,
        description: str,
        *,
        available: Availability | None = None,
        paced: bool = False,
        summarize: Summarize | None = None,
    ) -> Job:
        if name in self._jobs:
            raise ValueError(f"job {name!r} is registered twice")
        job = Job(name, func, description, available, paced, summarize)
        self._jobs[name] = job
        return job

    def get(self, name: str) -> Job:
        try:
            return self._jobs[name]
        except KeyError:
            known = ", ".join(sorted(self._jobs)) or "none"
            raise NotFound(f"no job {name!r} (known jobs: {known})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._jobs

    def __iter__(self) -> Iterator[Job]:
        return iter(self._jobs.values())

    def names(self) -> list[str]:
        return list(self._jobs)
