"""The scheduler service: fires registered jobs on their cron schedules and records every run.

Schedules are evaluated in UTC on the market's clock (``ctx.market_clock``): the wall clock for a real
exchange, the simulated time on a simulated venue, so in an accelerated simulation the nightly job runs
each simulated night and an hourly job once per simulated hour (several fire times passed by one price
update fire once). Tests drive it with a ``FakeClock`` or by feeding prices. Run records carry
wall-clock times (when the run really happened). A clock that steps back (the wall clock before a
simulation's first price, an NTP step) has its schedules recomputed. A fire time missed while the
daemon was down is not caught up: the next one counts.

A job never runs twice at once: a fire while it still runs is recorded as "skipped" (on the wall clock
a job overrunning its schedule is news); on simulated time, where a night passes in seconds and a long
job usually still runs at its next fire, it is skipped without a record. On simulated time a scheduled
fire of a heavy job (registered ``paced``: nightly generation, ML retraining) is also skipped without a
record until ``[scheduler] simulated_min_gap_s`` seconds of wall time have passed since that job's
previous run started, in this daemon or an earlier one (the start times recorded in ``job_runs``, read
when the scheduler starts, so a restart does not run one at once): an accelerated market that passes a
night a minute still shows its nightly runs, at a pace that keeps CPU and stored strategies bounded.
Runs started by hand, light jobs and a real exchange's schedules are never held back. Runs left
"running" by a crashed daemon are marked "interrupted" when the scheduler starts. Each run, from
writing its record to writing its outcome, is a ``ctx.work`` unit, so a stopping daemon lets it finish
(up to ``[daemon] stop_timeout_s``) before cancelling it, which records "cancelled"; a clean stop leaves
no run "running". A heavy job is not waited for: it is cancelled as soon as the daemon starts stopping,
and its run is recorded "cancelled" (the daemon was stopping). On simulated time the light jobs'
scheduled runs that go well log at debug (several come a second), and a job that cannot run here says
why once per reason. Each job keeps its newest ``[scheduler] keep_runs`` run records (pruned at start
and every ``PRUNE_EVERY`` runs).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from mastertrade.engine.events import JobFinished, JobStarted, ServiceStateChanged
from mastertrade.engine.kernel.context import Job, JobRun, ServiceStopping
from mastertrade.engine.scheduler.cron import next_fire
from mastertrade.engine.scheduler.runs import JobRunStore, interrupted_runs, run_info
from mastertrade.errors import OperationFailed

if TYPE_CHECKING:
    from mastertrade.db.models.daemon import JobRun as JobRunRecord
    from mastertrade.engine.kernel.context import EngineContext

log = logging.getLogger(__name__)

PRUNE_EVERY = 100
"""Runs recorded between two prunings of the run records to ``[scheduler] keep_runs`` per job."""

_MAX_SLEEP_S = 60.0  # re-check the clock at least this often (suspend, NTP steps)


class SchedulerService:
    name = "scheduler"

    def __init__(self) -> None:
        self._ctx: EngineContext | None = None
        self._running: dict[str, asyncio.Task[None]] = {}
        self._starting: set[asyncio.Task[Any]] = set()
        self._recording: dict[str, asyncio.Future[JobRunRecord]] = {}
        """The record being written of each running job (set once written)."""
        self._next: dict[str, datetime] = {}
        self._last: dict[str, dict[str, Any]] | None = None  # last run per job, loaded once
        self._started: dict[str, datetime] = {}  # wall-clock start of each job's latest run
        self._recovered = False
        self._not_started: dict[str, str] = {}  # why each job's latest scheduled fire did not start

    @property
    def ctx(self) -> EngineContext:
        if self._ctx is None:
            raise OperationFailed("the scheduler has not started yet")
        return self._ctx

    @property
    def runs(self) -> JobRunStore:
        return JobRunStore(self.ctx.db)

    def schedules(self) -> dict[str, str]:
        """The configured schedules that are switched on, by job name."""
        return {name: expr for name, expr in self.ctx.settings.scheduler.jobs.items() if expr.strip()}

    async def run(self, ctx: EngineContext) -> None:
        self._ctx = ctx
        ctx.provide(self)
        if not self._recovered:
            interrupted = await self.runs.mark_interrupted(ctx.clock.now())
            await _generation_runs_interrupted(ctx)
            if interrupted:
                log.warning("%s", interrupted_runs(interrupted))
                # the operator learns of a heavy run (the nightly generation) where they look, an alert,
                # not only from `mt status`: it is not started again before its next schedule. A light
                # job's (risk metrics, every few minutes) runs again in minutes: no news.
                heavy = [run for run in interrupted if run.job not in ctx.jobs or ctx.jobs.get(run.job).paced]
                if heavy:
                    said = interrupted_runs(heavy)
                    ctx.bus.publish(ServiceStateChanged(service="scheduler", state="interrupted", error=said))
            await self.runs.prune(ctx.settings.scheduler.keep_runs)
            for name in self.schedules():
                if name not in ctx.jobs:
                    log.info("job %s has a schedule but is not part of this version; it will not run", name)
            paced = [name for name in ctx.jobs.names() if ctx.jobs.get(name).paced]
            if paced:  # a restarted daemon honours the gap since the previous daemon's runs
                for name, started in (await self.runs.last_started(paced)).items():
                    self._started.setdefault(name, started)
            self._recovered = True
        try:
            if not ctx.settings.scheduler.enabled:
                await asyncio.Future()  # wait for cancellation: jobs run only when started by hand
            await self._loop(ctx)
        finally:
            await self._cancel_running()

    async def _loop(self, ctx: EngineContext) -> None:
        schedules = {name: expr for name, expr in self.schedules().items() if name in ctx.jobs}
        clock = ctx.market_time
        now = clock.now()
        self._next = {name: next_fire(expr, now) for name, expr in schedules.items()}
        while True:
            previous, now = now, clock.now()
            if now < previous:
                self._next = {name: next_fire(expr, now) for name, expr in schedules.items()}
            for name, when in list(self._next.items()):
                if when <= now:
                    self._next[name] = next_fire(schedules[name], now)
                    task = asyncio.create_task(self._fire(name), name=f"fire-{name}")
                    self._starting.add(task)
                    task.add_done_callback(self._starting.discard)
            soonest = min(self._next.values(), default=None)
            delay = (soonest - now).total_seconds() if soonest is not None else _MAX_SLEEP_S
            await clock.sleep(min(max(delay, 0.0), _MAX_SLEEP_S))

    async def _fire(self, name: str) -> None:
        try:
            await self.start_job(name, trigger="schedule")
        except OperationFailed as exc:
            # Said once per reason: a job that cannot run here (data_refresh on a simulated venue) is
            # fired on every schedule, which on simulated time is several times a second.
            said = self._not_started.get(name) == str(exc)
            self._not_started[name] = str(exc)
            log.log(logging.DEBUG if said else logging.INFO, "scheduled run of %s not started: %s", name, exc)
            return
        except Exception:
            log.exception("scheduled run of %s could not start", name)

    async def start_job(self, name: str, *, trigger: str = "manual") -> dict[str, Any]:
        """Start a run of ``name`` now; returns the run record (outcome "running" or "skipped")."""
        ctx = self.ctx
        job = ctx.jobs.get(name)
        reason = job.unavailable_reason(ctx)
        if reason is not None:
            raise OperationFailed(f"job {name} cannot run here: {reason}")
        if ctx.stopping.is_set():
            raise OperationFailed(f"job {name} not started: the daemon is stopping")
        now = ctx.clock.now()
        if name in self._running:
            if trigger != "schedule":
                raise OperationFailed(f"job {name} is already running")
            if ctx.market_time is not ctx.clock:  # simulated time: see the module docstring
                log.debug("scheduled run of %s skipped: the previous run is still running", name)
                return {"job": name, "trigger": trigger, "outcome": "skipped"}
            error = "the previous run was still running"
            # the running run's record first, so that runs are numbered (and listed) in the order they
            # began: its task marks it running before its record is written, under load a while before
            recording = self._recording.get(name)
            if recording is not None:
                await asyncio.wait([recording])
            try:
                async with ctx.work(f"job {name}"):  # a stop waits for the record to be written whole
                    skipped = await self.runs.start(name, trigger, now, outcome="skipped")
                    assert skipped.id is not None
                    await self.runs.finish(skipped.id, at=now, outcome="skipped", error=error)
            except ServiceStopping:
                raise OperationFailed(f"job {name} not started: the daemon is stopping") from None
            skipped.outcome, skipped.finished_at, skipped.error = "skipped", now, error
            return self._remember(skipped)
        if (
            trigger == "schedule"
            and job.paced
            and ctx.market_time is not ctx.clock
            and self._too_soon(name, now)
        ):
            log.debug(
                "scheduled run of %s skipped: its previous run started less than %g s ago", name, self._gap
            )
            return {"job": name, "trigger": trigger, "outcome": "skipped"}
        self._started[name] = now
        recorded: asyncio.Future[JobRunRecord] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(self._run(job, trigger, now, recorded), name=f"job-{name}")
        self._running[name] = task
        self._recording[name] = recorded

        def done(_: asyncio.Task[None]) -> None:
            self._running.pop(name, None)
            self._recording.pop(name, None)

        task.add_done_callback(done)
        return self._remember(await recorded)

    async def _run(
        self, job: Job, trigger: str, now: datetime, recorded: asyncio.Future[JobRunRecord]
    ) -> None:
        """One run as one unit of the daemon's work, from writing its record to writing its outcome: a
        stop waits for both (a run whose outcome was never written would be called "interrupted" by the
        next start, and a write cut off by cancellation leaves the database pool an error to log)."""
        try:
            async with self.ctx.work(f"job {job.name}"):
                record = await self.runs.start(job.name, trigger, now)
                assert record.id is not None
                recorded.set_result(record)
                await self._execute(job, record)
        except asyncio.CancelledError:
            recorded.cancel()
            raise
        except BaseException as exc:
            if recorded.done():
                raise
            if isinstance(exc, ServiceStopping):
                exc = OperationFailed(f"job {job.name} not started: the daemon is stopping")
            recorded.set_exception(exc)

    @property
    def _gap(self) -> float:
        return self.ctx.settings.scheduler.simulated_min_gap_s

    def _too_soon(self, name: str, now: datetime) -> bool:
        """Whether a scheduled run of ``name`` on simulated time comes too soon (wall time ``now``) after
        its previous run started. A wall clock stepped back behind that start does not hold it back."""
        previous = self._started.get(name)
        if previous is None or self._gap <= 0:
            return False
        return 0 <= (now - previous).total_seconds() < self._gap

    def _held_until(self, name: str, now: datetime) -> datetime | None:
        """The wall time before which a scheduled run of the paced ``name`` is skipped (``None``: not
        held back now), as :meth:`_too_soon` decides."""
        if not self._too_soon(name, now):
            return None
        return self._started[name] + timedelta(seconds=self._gap)

    def describe(self, record: JobRunRecord) -> dict[str, Any]:
        """A run record as the API gives it, its ``summary`` in its job's words (``Job.summary``)."""
        jobs = self.ctx.jobs
        return run_info(record, jobs.get(record.job) if record.job in jobs else None)

    def _remember(self, record: JobRunRecord) -> dict[str, Any]:
        info = self.describe(record)
        if self._last is not None:
            self._last[record.job] = info
        return info

    async def _execute(self, job: Job, record: JobRunRecord) -> None:
        ctx = self.ctx
        assert record.id is not None
        handle = JobRun(ctx, job.name, record.id, record.trigger)
        started = time.monotonic()
        outcome, error, result = "ok", None, None
        # A light job's scheduled runs on simulated time come several a second (risk_metrics every five
        # market minutes): logged at debug when they go well, so they do not rotate the daemon's log away
        # within hours. The run records, the events and anything that fails are kept as always.
        routine = record.trigger == "schedule" and not job.paced and ctx.market_time is not ctx.clock
        ctx.bus.publish(JobStarted(job=job.name, run_id=record.id, trigger=record.trigger))
        log.log(
            logging.DEBUG if routine else logging.INFO,
            "job %s run %s started (%s)",
            job.name,
            record.id,
            record.trigger,
        )
        try:
            if ctx.stopping.is_set():  # asked to stop while the run's record was being written
                raise ServiceStopping(job.name)
            result = await (self._until_stopping(job, handle) if job.paced else job.func(ctx, handle))
        except ServiceStopping:
            outcome, error = "cancelled", "the daemon was stopping"
        except asyncio.CancelledError:
            outcome, error = "cancelled", "cancelled before it finished (daemon stop deadline)"
            raise
        except Exception as exc:
            outcome, error = "error", _error_text(exc)
            log.exception("job %s run %s failed", job.name, record.id)
        finally:
            duration = time.monotonic() - started
            finished = ctx.clock.now()
            await self.runs.finish(record.id, at=finished, outcome=outcome, error=error, result=result)
            if record.id % PRUNE_EVERY == 0:  # a simulated market's light jobs record several runs a second
                await self.runs.prune(ctx.settings.scheduler.keep_runs)
            record.finished_at, record.outcome, record.error = finished, outcome, error
            record.result = json.dumps(result, default=str) if result is not None else None
            summary = self._remember(record)["summary"]  # from the result as stored: as `mt status` says it
            ctx.bus.publish(
                JobFinished(
                    job=job.name,
                    run_id=record.id,
                    outcome=outcome,
                    duration_s=duration,
                    error=error,
                    summary=summary,
                )
            )
            level = logging.DEBUG if routine and outcome == "ok" else logging.INFO
            log.log(level, "job %s run %s: %s in %.1f s", job.name, record.id, summary, duration)

    async def _until_stopping(self, job: Job, handle: JobRun) -> Any:
        """A heavy job's run, cancelled as soon as the daemon starts stopping: a generation or a training
        takes minutes, so waiting for it would only run into the stop deadline (and a stop or restart
        would take ``[daemon] stop_timeout_s`` every time). It unwinds (a generation records its run
        "cancelled"), then this raises ``ServiceStopping``."""
        work = asyncio.ensure_future(job.func(self.ctx, handle))
        stopping = asyncio.ensure_future(self.ctx.stopping.wait())
        try:
            await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not work.done():
                work.cancel()
                await asyncio.wait({work})
        if work.cancelled():
            raise ServiceStopping(job.name)
        return work.result()

    async def _cancel_running(self) -> None:
        tasks = list(self._starting) + list(self._running.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5.0)

    def running(self, name: str) -> bool:
        return name in self._running

    async def wait_idle(self) -> None:
        """Wait until no run is starting or running (tests)."""
        while self._starting or self._running:
            await asyncio.wait(list(self._starting) + list(self._running.values()))

    async def jobs_info(self) -> list[dict[str, Any]]:
        """Every registered or scheduled job: schedule, availability, next and last run."""
        ctx = self.ctx
        configured = self.schedules()
        if self._last is None:
            self._last = {name: self.describe(run) for name, run in (await self.runs.last_per_job()).items()}
        last = self._last
        names = list(ctx.jobs.names()) + [name for name in configured if name not in ctx.jobs]
        now = ctx.market_time.now()
        jobs = []
        for name in names:
            registered = name in ctx.jobs
            reason = ctx.jobs.get(name).unavailable_reason(ctx) if registered else "not part of this version"
            schedule = configured.get(name)
            next_run = None
            if schedule and registered and ctx.settings.scheduler.enabled:
                next_run = self._next.get(name) or next_fire(schedule, now)
            held_until = None
            if next_run is not None and ctx.jobs.get(name).paced and ctx.market_time is not ctx.clock:
                held_until = self._held_until(name, ctx.clock.now())
            jobs.append(
                {
                    "name": name,
                    "description": ctx.jobs.get(name).description if registered else "",
                    "schedule": schedule,
                    "available": reason is None,
                    "reason": reason,
                    "running": name in self._running,
                    "next_run": next_run if reason is None else None,
                    "held_until": held_until if reason is None else None,
                    "last_run": last.get(name),
                }
            )
        return jobs


def _error_text(exc: Exception) -> str:
    """A failed run's ``error``: the exception and the notes its raisers added on the way up (the nightly
    generation's universe says which series it was searching: ``universe.generate_universe``)."""
    notes = "".join(f" ({note})" for note in getattr(exc, "__notes__", ()))
    return f"{type(exc).__name__}: {exc}{notes}"


async def _generation_runs_interrupted(ctx: EngineContext) -> None:
    """The nightly generation runs a killed daemon left "running" (their ``generation_runs`` rows):
    marked interrupted, with when. Nightly runs are the daemon's only (one per database), so none can
    be going on while it starts."""
    from mastertrade.engine.generator.store import StrategyStore

    for run in await StrategyStore(ctx.db).mark_interrupted(trigger="nightly"):
        log.warning(
            "generation run %s (nightly, %s %s, started %s) was cut short by the previous daemon's end: "
            "marked interrupted",
            run.id,
            run.symbol,
            run.timeframe,
            run.started_at.isoformat(timespec="seconds"),
        )
