"""A daemon killed during the nightly generation: the next daemon marked the run "interrupted" in
`mt status` and said nothing else; the alert ("Daemon restarted after an unclean stop") did not say a
night's run was lost, and the run is not started again by itself. The alert now names the run and how to
run it again."""

from __future__ import annotations

from datetime import UTC, datetime

from mastertrade.config import Settings
from mastertrade.db.models.daemon import JobRun as JobRunRecord
from tests.daemon.conftest import configure, core_daemon
from tests.daemon.fakes import FakeVenue, RecordingNotifier, wait_for


async def test_an_interrupted_nightly_run_is_alerted_with_the_way_to_run_it_again(
    settings: Settings,
) -> None:
    from mastertrade.db.database import Database
    from mastertrade.engine.alerts.service import AlertService
    from mastertrade.engine.scheduler.service import SchedulerService

    settings = configure(
        alerts={"urls": ["json://127.0.0.1:9/hook"]},
        scheduler={"jobs": {"data_refresh": ""}},
    )
    db = await Database.open(settings)
    async with db.sessions() as session:  # the run a killed daemon left "running"
        session.add(
            JobRunRecord(
                job="nightly_generation",
                trigger="schedule",
                started_at=datetime(2026, 12, 5, 3, 0, 0, tzinfo=UTC),
                outcome="running",
            )
        )
        # a light job's run, which runs again within minutes: in the log, not in the alert
        session.add(
            JobRunRecord(
                job="data_refresh",
                trigger="schedule",
                started_at=datetime(2026, 12, 5, 3, 1, 0, tzinfo=UTC),
                outcome="running",
            )
        )
        await session.commit()
    await db.close()
    notifier = RecordingNotifier()
    daemon = core_daemon(
        settings,
        venue=FakeVenue(),
        notifier=notifier,
        serve_api=False,
        services=lambda ctx: [AlertService(), SchedulerService()],
    )
    await daemon.start()
    try:
        sent = await wait_for(lambda: [s for s in notifier.sent if "interrupted" in s["title"]], timeout=10)
    finally:
        await daemon.stop()
    assert sent[0]["title"] == "Job run interrupted by the daemon's end"
    assert sent[0]["body"] == (
        "The previous daemon's end interrupted nightly_generation (run 1, schedule, started"
        " 2026-12-05T03:00:00Z). What it had stored is kept; it is not run again by itself (its next run"
        " is the next on its schedule): `mt daemon run nightly_generation` runs it now."
    )
    assert sent[0]["severity"] == "warning"


async def test_a_lock_never_released_is_an_unclean_stop_without_a_pid_file(settings: Settings) -> None:
    """The pid file lives in the runtime folder, a tmpfs a reboot empties: after a power loss (or a
    cleaner of /tmp) the next daemon found none and said nothing of the unclean stop. The database lock
    its holder never released says it too."""
    import subprocess
    import sys

    from sqlalchemy import text

    from mastertrade.db.database import Database
    from mastertrade.engine.alerts.service import AlertService
    from mastertrade.engine.db_lock import DatabaseLock

    settings = configure(alerts={"urls": ["json://127.0.0.1:9/hook"]})
    db = await Database.open(settings)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    lost = DatabaseLock(db, runtime="/run/user/1000/mastertrade/mt.sock")
    await lost.acquire()  # the daemon before the power loss: never released
    async with db.engine.begin() as connection:
        await connection.execute(text("UPDATE daemon_lock SET pid = :pid"), {"pid": int(gone.stdout)})
    if lost._connection is not None:  # Postgres: the server drops a dead session's advisory lock
        await lost._connection.close()
    await db.close()
    notifier = RecordingNotifier()
    daemon = core_daemon(
        settings, venue=FakeVenue(), notifier=notifier, serve_api=False, services=lambda ctx: [AlertService()]
    )
    ctx = await daemon.start()  # no pid file said so (recovered=False)
    try:
        assert ctx.state.recovered
        sent = await wait_for(lambda: [s for s in notifier.sent if "unclean" in s["title"]], timeout=10)
        assert sent[0]["title"] == "Daemon restarted after an unclean stop"
    finally:
        await daemon.stop()
    # a clean stop releases the lock: the next start is no recovery
    again = core_daemon(
        settings, venue=FakeVenue(), notifier=RecordingNotifier(), serve_api=False, services=lambda ctx: []
    )
    ctx = await again.start()
    try:
        assert not ctx.state.recovered
    finally:
        await again.stop()


async def test_a_nightly_generation_run_left_running_is_marked_interrupted_at_the_next_start(
    settings: Settings,
) -> None:
    """Its ``generation_runs`` row stayed "running" for ever; a ``mt generate`` run (trigger "cli"), which
    may be going on in another process, is left as it is."""
    from mastertrade.db.database import Database
    from mastertrade.db.models.strategies import GenerationRun
    from mastertrade.engine.generator.store import StrategyStore
    from mastertrade.engine.scheduler.service import SchedulerService

    settings = configure(scheduler={"jobs": {"data_refresh": ""}})
    db = await Database.open(settings)
    started = datetime(2026, 12, 5, 3, 0, 0, tzinfo=UTC)
    async with db.sessions() as session:
        for trigger in ("nightly", "cli"):
            session.add(
                GenerationRun(
                    trigger=trigger, exchange="binance", symbol="BTC/USDT", timeframe="1h", seed=1,
                    outcome="running", started_at=started,
                )
            )  # fmt: skip
        await session.commit()
    await db.close()
    scheduler = SchedulerService()
    daemon = core_daemon(settings, venue=FakeVenue(), serve_api=False, services=lambda ctx: [scheduler])
    await daemon.start()
    try:
        await wait_for(lambda: scheduler._recovered, timeout=10)  # its start's recovery is done
        assert daemon.ctx is not None
        nightly, cli = sorted(await StrategyStore(daemon.ctx.db).runs(), key=lambda run: run.trigger)[::-1]
    finally:
        await daemon.stop()
    assert (nightly.trigger, nightly.outcome) == ("nightly", "interrupted")
    assert nightly.finished_at is not None and nightly.finished_at > started
    assert nightly.error == "the process running it stopped before it finished"
    assert (cli.trigger, cli.outcome, cli.finished_at) == ("cli", "running", None)
