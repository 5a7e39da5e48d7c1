"""The scheduler on a fake wall clock (a real exchange's daemon): jobs fire at their cron times (UTC),
every run is recorded with its outcome, overlapping fires are skipped, runs a crash left behind are
marked interrupted, and runs can be started by hand through the API. On a simulated venue schedules run
on market time (tests/trading/test_market_time.py), at most once per ``[scheduler] simulated_min_gap_s``
of wall time per job (here)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from mastertrade.client import DaemonClient
from mastertrade.config import Settings
from mastertrade.db.models.daemon import JobRun as JobRunRecord
from mastertrade.engine.api.app import create_app
from mastertrade.engine.daemon import Daemon
from mastertrade.engine.kernel.clock import FakeClock, MarketTime
from mastertrade.engine.kernel.context import EngineContext, JobRegistry, JobRun
from mastertrade.engine.scheduler.service import SchedulerService
from mastertrade.errors import NotFound, OperationFailed
from tests.daemon.fakes import FakeVenue, RecordingNotifier, wait_for

START = datetime(2026, 3, 1, 0, 5, tzinfo=UTC)


class Jobs:
    """Test jobs: one that counts, one that fails, one that waits to be released."""

    def __init__(self) -> None:
        self.calls: list[datetime] = []
        self.release = asyncio.Event()

    async def count(self, ctx: EngineContext, run: JobRun) -> dict[str, Any]:
        self.calls.append(ctx.clock.now())
        run.progress(1, 1, "counted")
        return {"calls": len(self.calls)}

    async def fail(self, ctx: EngineContext, run: JobRun) -> None:
        raise RuntimeError("the disk is full")

    async def slow(self, ctx: EngineContext, run: JobRun) -> None:
        await self.release.wait()

    def registry(self) -> JobRegistry:
        jobs = JobRegistry()
        jobs.add("count", self.count, "Counts")
        jobs.add("heavy", self.count, "Counts, paced on simulated time", paced=True)
        jobs.add("fail", self.fail, "Fails")
        jobs.add("slow", self.slow, "Waits")
        jobs.add("never", self.count, "Unavailable", available=lambda ctx: "needs a real exchange")
        return jobs


class Scheduled:
    def __init__(self, ctx: EngineContext, clock: FakeClock, jobs: Jobs) -> None:
        self.ctx, self.clock, self.jobs = ctx, clock, jobs
        self.scheduler = ctx.get(SchedulerService)
        self.client = DaemonClient(transport=httpx.ASGITransport(app=create_app(ctx)))

    async def at(self, hour: int, minute: int) -> None:
        """Move the clock to hh:mm on the start day and wait until the runs it fired are over."""
        await self.clock.set(START.replace(hour=hour, minute=minute))
        await asyncio.sleep(0)
        await self.scheduler.wait_idle()


@pytest.fixture
async def scheduled(settings: Settings) -> AsyncIterator[Scheduled]:
    config = settings.model_copy(
        update={
            "scheduler": settings.scheduler.model_copy(
                update={
                    "jobs": {
                        "count": "*/15 * * * *",
                        "fail": "0 1 * * *",
                        "slow": "30 5,6 * * *",
                        "never": "* * * * *",
                        "nightly_generation": "0 3 * * *",
                    }
                }
            )
        }
    )
    # A run a crashed daemon left "running".
    from mastertrade.db.database import Database

    db = await Database.open(config)
    async with db.sessions() as session:
        session.add(JobRunRecord(job="count", trigger="schedule", started_at=START, outcome="running"))
        await session.commit()
    await db.close()

    clock, jobs = FakeClock(START), Jobs()
    daemon = Daemon(
        config,
        venue=FakeVenue(simulated=False),  # a real exchange: schedules on the wall clock (FakeClock)
        clock=clock,
        notifier=RecordingNotifier(),
        serve_api=False,
        services=lambda ctx: [SchedulerService()],
        jobs=jobs.registry,
    )
    ctx = await daemon.start()
    await wait_for(lambda: clock.sleepers > 0)
    scheduled = Scheduled(ctx, clock, jobs)
    try:
        yield scheduled
    finally:
        jobs.release.set()
        await scheduled.client.aclose()
        await daemon.stop()


async def test_jobs_fire_at_their_cron_times_and_each_run_is_recorded(scheduled: Scheduled) -> None:
    progress = scheduled.ctx.bus.subscribe({"job"})
    await scheduled.at(0, 14)
    assert scheduled.jobs.calls == []
    await scheduled.at(0, 15)
    await scheduled.at(0, 29)
    assert scheduled.jobs.calls == [START.replace(minute=15)]
    await scheduled.at(0, 30)
    await scheduled.at(0, 45)
    assert scheduled.jobs.calls == [
        START.replace(minute=15),
        START.replace(minute=30),
        START.replace(minute=45),
    ]
    runs = await scheduled.client.job_runs("count")
    assert [(run.outcome, run.trigger) for run in runs] == [("ok", "schedule")] * 3 + [
        ("interrupted", "schedule")
    ]
    assert runs[0].started_at == START.replace(minute=45) and runs[0].result == {"calls": 3}
    assert runs[3].error == "the daemon stopped during the run"
    types = []
    while (event := progress.get_nowait()) is not None:
        types.append(event.type)
    assert "job.started" in types and "job.finished" in types and "job.progress" in types


async def test_a_failing_job_records_its_error_and_the_scheduler_goes_on(scheduled: Scheduled) -> None:
    for hour, minute in ((0, 15), (0, 30), (0, 45), (1, 0), (1, 15)):
        await scheduled.at(hour, minute)
    runs = await scheduled.client.job_runs("fail")
    assert len(runs) == 1 and runs[0].outcome == "error"
    assert runs[0].error == "RuntimeError: the disk is full"
    assert runs[0].finished_at == START.replace(hour=1, minute=0)
    assert len(scheduled.jobs.calls) == 5  # count kept firing: 00:15 00:30 00:45 01:00 01:15
    jobs = {job.name: job for job in await scheduled.client.jobs()}
    assert jobs["fail"].last_run is not None and jobs["fail"].last_run.outcome == "error"
    assert jobs["count"].next_run == START.replace(hour=1, minute=30)


async def test_a_fire_while_the_previous_run_still_runs_is_skipped(scheduled: Scheduled) -> None:
    await scheduled.clock.set(START.replace(hour=5, minute=30))
    await wait_for(lambda: scheduled.scheduler.running("slow"))
    await scheduled.clock.set(START.replace(hour=6, minute=30))
    # the scheduler has fired the 6:30 run (its next is the next day's) and that fire is over; waiting on
    # the second alone passed before the scheduler woke, and the fire then found the first run finished
    await wait_for(lambda: scheduled.scheduler._next["slow"] > START.replace(hour=6, minute=30))
    await wait_for(lambda: not scheduled.scheduler._starting)
    scheduled.jobs.release.set()
    await scheduled.scheduler.wait_idle()
    runs = await scheduled.client.job_runs("slow")
    assert [run.outcome for run in runs] == ["skipped", "ok"]
    assert runs[0].error == "the previous run was still running"


async def test_a_skip_is_recorded_after_the_run_it_skipped_for(
    scheduled: Scheduled, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run is marked running before its record is written; a fire meanwhile (the database slow) waits
    for that record, so runs are numbered, and listed, in the order they began (it came first before)."""
    from mastertrade.engine.scheduler.runs import JobRunStore

    writing, proceed = asyncio.Event(), asyncio.Event()
    start = JobRunStore.start

    async def slow_first_record(store: JobRunStore, job: str, *args: Any, **kwargs: Any) -> JobRunRecord:
        if job == "slow" and kwargs.get("outcome", "running") == "running":
            writing.set()
            await proceed.wait()
        return await start(store, job, *args, **kwargs)

    monkeypatch.setattr(JobRunStore, "start", slow_first_record)
    await scheduled.clock.set(START.replace(hour=5, minute=30))
    await writing.wait()  # the 5:30 run is running, its record not yet written
    await scheduled.clock.set(START.replace(hour=6, minute=30))
    await wait_for(lambda: scheduled.scheduler._next["slow"] > START.replace(hour=6, minute=30))
    await asyncio.sleep(0.05)  # the 6:30 fire has had its chance to write first
    proceed.set()
    await wait_for(lambda: not scheduled.scheduler._starting)
    scheduled.jobs.release.set()
    await scheduled.scheduler.wait_idle()
    runs = await scheduled.client.job_runs("slow")
    assert [run.outcome for run in runs] == ["skipped", "ok"]
    assert runs[0].id > runs[1].id


async def test_jobs_listing_shows_schedules_availability_and_unknown_names(scheduled: Scheduled) -> None:
    jobs = {job.name: job for job in await scheduled.client.jobs()}
    assert jobs["count"].schedule == "*/15 * * * *" and jobs["count"].available
    assert jobs["never"].available is False and jobs["never"].reason == "needs a real exchange"
    assert jobs["never"].next_run is None
    assert jobs["nightly_generation"].reason == "not part of this version"
    await scheduled.at(0, 6)
    assert scheduled.jobs.calls == []  # "never" is scheduled every minute, but cannot run


async def test_runs_started_by_hand_through_the_api(scheduled: Scheduled) -> None:
    run = await scheduled.client.run_job("count")
    assert run.outcome == "running" and run.trigger == "manual"
    await scheduled.scheduler.wait_idle()
    runs = await scheduled.client.job_runs("count", limit=1)
    assert runs[0].id == run.id and runs[0].outcome == "ok"
    with pytest.raises(NotFound, match="no job 'nope'"):
        await scheduled.client.run_job("nope")
    with pytest.raises(OperationFailed, match="needs a real exchange"):
        await scheduled.client.run_job("never")
    await scheduled.client.run_job("slow")
    with pytest.raises(OperationFailed, match="already running"):
        await scheduled.client.run_job("slow")


async def test_data_refresh_fills_the_gaps_of_a_real_exchange(settings: Settings) -> None:
    from mastertrade.engine.market.store import SeriesKey
    from mastertrade.engine.market.timeframes import floor_ts, now_ms
    from tests.daemon.conftest import core_daemon

    hour = 3_600_000
    current = floor_ts(now_ms(), "1h")  # the bar still forming: never stored
    rows = [(current - n * hour, 100.0 + n, 101.0 + n, 99.0 + n, 100.5 + n, 5.0) for n in range(10, -1, -1)]
    venue = FakeVenue("binance", simulated=False)
    venue.history = {"BTC/USDT": rows, "ETH/USDT": rows[-3:]}
    config = settings.model_copy(
        update={
            "market": settings.market.model_copy(update={"venue": "ccxt"}),
            "scheduler": settings.scheduler.model_copy(update={"backfill_bars": 5, "enabled": False}),
        }
    )
    daemon = core_daemon(config, venue=venue, serve_api=False)
    ctx = await daemon.start()
    try:
        await ctx.candles.upsert(SeriesKey("binance", "BTC/USDT", "1h"), rows[:4])  # an old stretch
        scheduler = await wait_for(lambda: ctx.find(SchedulerService))
        client = DaemonClient(transport=httpx.ASGITransport(app=create_app(ctx)))
        jobs = {job.name: job for job in await client.jobs()}
        assert jobs["data_refresh"].available and jobs["data_refresh"].next_run is None  # scheduler off
        await client.run_job("data_refresh")
        await scheduler.wait_idle()
        run = (await client.job_runs("data_refresh"))[0]
        assert run.outcome == "ok", run.error
        assert run.result["symbols"]["BTC/USDT"]["new"] == 6  # bars 5..10 hours ago up to the last closed
        assert run.result["symbols"]["ETH/USDT"]["new"] == 2  # the venue only has the last 2 closed bars
        btc = await ctx.candles.read(SeriesKey("binance", "BTC/USDT", "1h"))
        assert len(btc) == 10 and int(btc.index[-1].timestamp() * 1000) == current - hour
        await client.aclose()
    finally:
        await daemon.stop()


async def test_data_refresh_is_unavailable_on_the_simulated_market(engine: Any) -> None:
    client = engine.client()
    with pytest.raises(OperationFailed, match='the venue is "sim"'):
        await client.run_job("data_refresh")
    await client.aclose()


DAY_MS = 24 * 3_600_000
NIGHT0_MS = 1_767_225_600_000 + 3 * 3_600_000  # 2026-01-01 03:00 UTC, market time


@asynccontextmanager
async def _daemon(
    settings: Settings, *, simulated: bool, gap_s: float, jobs: dict[str, str], start: datetime = START
) -> AsyncIterator[Any]:
    """A daemon whose scheduler runs ``jobs`` with ``[scheduler] simulated_min_gap_s = gap_s``, on a fake
    wall clock; on a simulated venue its market time is moved by the test (``market.observe``)."""
    scheduler = settings.scheduler.model_copy(update={"jobs": jobs, "simulated_min_gap_s": gap_s})
    clock, counted = FakeClock(start), Jobs()
    market = MarketTime(clock) if simulated else None
    if market is not None:
        market.observe(NIGHT0_MS - 3_600_000)  # the feed's first price: 02:00, an hour before the night
    daemon = Daemon(
        settings.model_copy(update={"scheduler": scheduler}),
        venue=FakeVenue(simulated=simulated),
        clock=clock,
        market_clock=market,
        notifier=RecordingNotifier(),
        serve_api=False,
        services=lambda ctx: [SchedulerService()],
        jobs=counted.registry,
    )
    ctx = await daemon.start()
    await wait_for(lambda: (market or clock).sleepers > 0)
    try:
        yield ctx, clock, market, counted, ctx.get(SchedulerService)
    finally:
        counted.release.set()
        await daemon.stop()


async def _night(market: MarketTime, scheduler: SchedulerService, night: int) -> None:
    """Move market time to 03:00 of simulated night ``night`` and wait until what it fired is over."""
    at = NIGHT0_MS + night * DAY_MS
    market.observe(at)
    fired = datetime.fromtimestamp(at / 1000, tz=UTC)
    await wait_for(lambda: min(scheduler._next.values()) > fired)
    await wait_for(lambda: not scheduler._starting)
    await scheduler.wait_idle()


async def test_on_simulated_time_a_job_runs_at_most_once_per_simulated_min_gap_of_wall_time(
    settings: Settings,
) -> None:
    """A simulated night passes every 48 s of wall time (the default speed): the heavy (paced) nightly
    job runs on the first night, its fires of the next ten minutes are skipped without a record, a run
    started by hand is not held back, and the next fire ten minutes of wall time after the latest start
    runs. A light job scheduled the same nights runs every night."""
    nightly = {"heavy": "0 3 * * *", "count": "0 3 * * *"}
    async with _daemon(settings, simulated=True, gap_s=600, jobs=nightly) as daemon:
        _, clock, market, jobs, scheduler = daemon
        await _night(market, scheduler, 0)
        assert len(jobs.calls) == 2  # both jobs, at START
        for night in range(1, 5):
            await clock.advance(48)
            await _night(market, scheduler, night)
        heavy = await scheduler.runs.recent("heavy")
        assert [run.started_at for run in heavy] == [START]  # 192 s of wall time: four nights skipped
        # the listing says so: the heavy job is held back until 600 s after its run started, the light not
        listed = {job["name"]: job for job in await scheduler.jobs_info()}
        assert listed["heavy"]["held_until"] == START + timedelta(seconds=600)
        assert listed["count"]["held_until"] is None
        manual = await scheduler.start_job("heavy")
        assert manual["outcome"] == "running"
        await scheduler.wait_idle()
        await clock.advance(599)
        await _night(market, scheduler, 5)
        assert len(await scheduler.runs.recent("heavy")) == 2  # 599 s after the manual run started
        await clock.advance(1)
        await _night(market, scheduler, 6)
        heavy = await scheduler.runs.recent("heavy")
        assert [(run.trigger, run.outcome, run.started_at) for run in reversed(heavy)] == [
            ("schedule", "ok", START),
            ("manual", "ok", START + timedelta(seconds=192)),
            ("schedule", "ok", START + timedelta(seconds=792)),
        ]
        light = await scheduler.runs.recent("count")
        assert len(light) == 7 and all(run.outcome == "ok" for run in light)  # every night
        held = {job["name"]: job for job in await scheduler.jobs_info()}["heavy"]["held_until"]
        assert held == START + timedelta(seconds=792 + 600)  # from the latest run's start


async def test_simulated_min_gap_holds_across_a_daemon_restart(settings: Settings) -> None:
    """The gap is counted from the previous run's start as ``job_runs`` recorded it: a daemon restarted a
    minute after a nightly run does not start another on its first simulated night, and one restarted
    after the gap does."""
    nightly = {"heavy": "0 3 * * *"}
    async with _daemon(settings, simulated=True, gap_s=600, jobs=nightly) as daemon:
        _, _, market, jobs, scheduler = daemon
        await _night(market, scheduler, 0)
        assert jobs.calls == [START]
    restarted = START + timedelta(seconds=60)
    async with _daemon(settings, simulated=True, gap_s=600, jobs=nightly, start=restarted) as daemon:
        _, clock, market, jobs, scheduler = daemon
        await _night(market, scheduler, 0)
        await clock.advance(48)
        await _night(market, scheduler, 1)
        assert jobs.calls == []  # 108 s after the previous daemon's run started
    later = START + timedelta(seconds=600)
    async with _daemon(settings, simulated=True, gap_s=600, jobs=nightly, start=later) as daemon:
        _, _, market, jobs, scheduler = daemon
        await _night(market, scheduler, 0)
        assert jobs.calls == [later]
        heavy = await scheduler.runs.recent("heavy")
        assert [run.started_at for run in heavy] == [later, START]


async def test_on_simulated_time_routine_runs_do_not_flood_the_log(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Light jobs fire several times a second on simulated time: their good runs log at debug, and a job
    that cannot run here says why once, not at every fire. Heavy jobs and failures still log at info
    and above; every run is still recorded."""
    nightly = {name: "0 3 * * *" for name in ("count", "heavy", "fail", "never")}
    caplog.set_level(logging.INFO, logger="mastertrade.engine.scheduler.service")
    async with _daemon(settings, simulated=True, gap_s=0, jobs=nightly) as daemon:
        _, _, market, jobs, scheduler = daemon
        for night in range(3):
            await _night(market, scheduler, night)
        assert len(jobs.calls) == 6  # count and heavy, every night
        assert len(await scheduler.runs.recent("count")) == 3
    said = [
        (record.levelname, re.sub(r"run \d+", "run N", record.getMessage().split(" in ")[0]))
        for record in caplog.records
        if record.name == "mastertrade.engine.scheduler.service"
    ]
    assert set(said) == {
        ("ERROR", "job fail run N failed"),
        ("INFO", "job fail run N: error"),
        ("INFO", "job heavy run N started (schedule)"),
        ("INFO", "job heavy run N: ok"),
        ("INFO", "scheduled run of never not started: job never cannot run here: needs a real exchange"),
    }
    assert said.count(("INFO", "job heavy run N: ok")) == 3
    assert (
        said.count(
            ("INFO", "scheduled run of never not started: job never cannot run here: needs a real exchange")
        )
        == 1
    )


async def test_a_run_started_just_before_a_stop_is_recorded_finished(settings: Settings) -> None:
    """A clean stop waits for a run from its record's start to its record's end: a run started a moment
    before ``mt daemon stop`` is recorded with its outcome, not left "running" for the next start to
    call interrupted."""
    jobs = Jobs()
    daemon = Daemon(
        settings,
        venue=FakeVenue(simulated=False),
        clock=FakeClock(START),
        notifier=RecordingNotifier(),
        serve_api=False,
        services=lambda ctx: [SchedulerService()],
        jobs=jobs.registry,
    )
    ctx = await daemon.start()
    await wait_for(lambda: ctx.find(SchedulerService) is not None)
    started = await ctx.get(SchedulerService).start_job("count")
    await daemon.stop()
    assert jobs.calls == [START]
    from mastertrade.db.database import Database
    from mastertrade.engine.scheduler.runs import JobRunStore

    db = await Database.open(settings)
    try:
        runs = await JobRunStore(db).recent("count")
    finally:
        await db.close()
    assert [(run.id, run.outcome, run.finished_at) for run in runs] == [(started["id"], "ok", START)]


async def test_simulated_min_gap_0_runs_every_simulated_night(settings: Settings) -> None:
    async with _daemon(settings, simulated=True, gap_s=0, jobs={"heavy": "0 3 * * *"}) as daemon:
        _, clock, market, jobs, scheduler = daemon
        for night in range(3):
            await _night(market, scheduler, night)
            await clock.advance(48)
        assert jobs.calls == [START + timedelta(seconds=48 * night) for night in range(3)]


async def test_simulated_min_gap_does_not_hold_back_a_real_exchange(settings: Settings) -> None:
    """On the wall clock (a real exchange) every fire runs, however close: the gap is for simulations."""
    async with _daemon(settings, simulated=False, gap_s=3600, jobs={"heavy": "*/15 * * * *"}) as daemon:
        _, clock, _, jobs, scheduler = daemon
        for minute in (15, 30, 45):
            await clock.set(START.replace(minute=minute))
            await asyncio.sleep(0)
            await scheduler.wait_idle()
        assert jobs.calls == [START.replace(minute=minute) for minute in (15, 30, 45)]


async def test_a_heavy_job_is_cancelled_when_the_daemon_starts_stopping(settings: Settings) -> None:
    """A nightly generation ran on until the stop deadline (20 s), so every `mt daemon restart` during
    one took that long and then cut it off anyway: a heavy job now stops with the daemon at once."""
    seen: list[str] = []
    forever = asyncio.Event()

    async def generation(ctx: EngineContext, run: JobRun) -> None:
        try:
            await forever.wait()
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    registry = JobRegistry()
    registry.add("generation", generation, "Runs until stopped", paced=True)
    settings.daemon.stop_timeout_s = 30.0
    daemon = Daemon(
        settings,
        venue=FakeVenue(simulated=False),
        clock=FakeClock(START),
        notifier=RecordingNotifier(),
        serve_api=False,
        services=lambda ctx: [SchedulerService()],
        jobs=lambda: registry,
    )
    ctx = await daemon.start()
    await wait_for(lambda: ctx.find(SchedulerService) is not None)
    started = await ctx.get(SchedulerService).start_job("generation")
    await asyncio.sleep(0)
    began = asyncio.get_running_loop().time()
    await daemon.stop()
    assert asyncio.get_running_loop().time() - began < 10  # not the 30 s stop deadline
    assert seen == ["cancelled"]
    from mastertrade.db.database import Database
    from mastertrade.engine.scheduler.runs import JobRunStore

    db = await Database.open(settings)
    try:
        runs = await JobRunStore(db).recent("generation")
    finally:
        await db.close()
    assert [(run.id, run.outcome, run.error) for run in runs] == [
        (started["id"], "cancelled", "the daemon was stopping")
    ]


async def test_the_scheduler_prunes_run_records_as_it_goes(settings: Settings) -> None:
    """Old records go at start and every ``PRUNE_EVERY`` runs, not only at the next restart."""
    from mastertrade.engine.scheduler import service
    from mastertrade.engine.scheduler.runs import JobRunStore

    settings.scheduler.keep_runs = 3
    async with _daemon(settings, simulated=False, gap_s=0, jobs={"count": "0 0 1 1 *"}) as daemon:
        ctx, _, _, jobs, scheduler = daemon
        service.PRUNE_EVERY, every = 4, service.PRUNE_EVERY
        try:
            for _ in range(8):
                await scheduler.start_job("count")
                await scheduler.wait_idle()
        finally:
            service.PRUNE_EVERY = every
        kept = await JobRunStore(ctx.db).recent("count", limit=100)
    assert len(jobs.calls) == 8
    assert [run.id for run in kept] == [8, 7, 6]
