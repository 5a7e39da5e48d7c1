"""One trading daemon per database, enforced by the database: a second daemon on the same database is
refused whatever its runtime folder (cron has no XDG_RUNTIME_DIR; a login shell has one), a stale claim
is taken over, and a holder whose claim was taken stops."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mastertrade import errors
from mastertrade.config import DbLockSettings
from mastertrade.engine.db_lock import DatabaseLock

MT = str(Path(sys.executable).with_name("mt"))


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_the_second_claim_is_refused_and_a_stale_one_taken_over(database: Any) -> None:
    clock = Clock()
    first = DatabaseLock(
        database, runtime="/run/a/mt.sock", settings=DbLockSettings(stale_after_s=60), clock=clock
    )
    second = DatabaseLock(
        database, runtime="/run/b/mt.sock", settings=DbLockSettings(stale_after_s=60), clock=clock
    )
    await first.acquire()
    with pytest.raises(errors.DaemonAlreadyRunning, match=f"pid {os.getpid()}.*/run/a/mt.sock"):
        await second.acquire()
    clock.now += 30
    assert await first.beat()
    clock.now += 59
    if database.dialect == "postgresql":  # the advisory lock is never stale: it dies with its session
        with pytest.raises(errors.DaemonAlreadyRunning):
            await second.acquire()
        await first.release()
        await second.acquire()
        await second.release()
        return
    with pytest.raises(errors.DaemonAlreadyRunning):
        await second.acquire()  # 59 s since the last beat: still fresh
    clock.now += 2
    await second.acquire()  # 61 s: stale, taken over
    assert not await first.beat()  # the frozen holder learns it lost the claim
    await first.release()  # releasing a lost claim leaves the new holder's alone
    third = DatabaseLock(database, runtime="/run/c/mt.sock", clock=clock)
    with pytest.raises(errors.DaemonAlreadyRunning, match="/run/b/mt.sock"):
        await third.acquire()
    await second.release()
    await third.acquire()
    await third.release()


async def test_a_dead_holder_on_this_host_is_replaced_at_once(database: Any) -> None:
    if database.dialect == "postgresql":
        pytest.skip("Postgres drops a dead session's advisory lock by itself")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    dead = DatabaseLock(database, runtime="/run/dead/mt.sock")
    await dead.acquire()
    dead.held = False  # the process died without releasing: its row stays, with a pid now gone
    async with database.engine.begin() as connection:
        from sqlalchemy import text

        await connection.execute(text("UPDATE daemon_lock SET pid = :pid"), {"pid": int(gone.stdout)})
    fresh = DatabaseLock(database, runtime="/run/new/mt.sock")
    await fresh.acquire()
    await fresh.release()


@pytest.mark.xdist_group("daemon-process")
def test_two_daemons_on_one_database_with_different_runtime_folders(tmp_path: Path) -> None:
    database = tmp_path / "shared.db"

    def env(home: str) -> dict[str, str]:
        values = {k: v for k, v in os.environ.items() if not k.startswith("MT_")}
        values.update(
            MT_HOME=str(tmp_path / home),  # its own runtime folder, pid file and socket
            MT_DB__URL=f"sqlite+aiosqlite:///{database}",
            MT_MARKET__VENUE="sim",
            MT_MARKET__SYMBOLS='["BTC/USDT"]',
            MT_COLLECTORS__ENABLED="false",
            MT_SCHEDULER__ENABLED="false",
            MT_DAEMON__STOP_TIMEOUT_S="5",
        )
        return values

    login, cron = env("login"), env("cron")

    def mt(values: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([MT, *args], env=values, capture_output=True, text=True, timeout=90)

    started = mt(login, "daemon", "start")
    assert started.returncode == 0, started.stderr
    try:
        refused = mt(cron, "daemon", "start")
        assert refused.returncode == 1
        assert "another daemon already trades the database" in refused.stderr, refused.stderr
        assert str(tmp_path / "login") in refused.stderr  # names the holder's socket
        assert refused.stderr.startswith("mt: error: ")
        assert "not running" in mt(cron, "daemon", "status").stderr  # nothing runs for the second folder
    finally:
        assert mt(login, "daemon", "stop").returncode == 0
    second = mt(cron, "daemon", "start")  # once the first is gone, the other folder's daemon may run
    assert second.returncode == 0, second.stderr
    assert mt(cron, "daemon", "stop").returncode == 0


async def test_a_heartbeat_cancelled_inside_its_query_still_releases(database: Any) -> None:
    """The daemon's stop cancels the heartbeat, which may be inside its query on the lock's own session;
    the release then raised ``PendingRollbackError`` (seen in CI under load), and the stop with it, before
    the database was closed and the socket removed. Now the session is rolled back and the lock given up,
    so another daemon can take it at once."""
    import asyncio

    from sqlalchemy import text

    if database.dialect != "postgresql":
        pytest.skip("the advisory lock's own session is Postgres only")
    held = DatabaseLock(database, runtime="/run/a/mt.sock")
    await held.acquire()
    connection = held._connection
    assert connection is not None
    asked = asyncio.create_task(connection.execute(text("SELECT pg_sleep(30)")))
    async with database.engine.connect() as watcher:  # wait until the query runs on the server
        for _ in range(500):
            running = await watcher.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'")
            )
            await watcher.commit()
            if running:
                break
            await asyncio.sleep(0.01)
    asked.cancel()
    await asyncio.gather(asked, return_exceptions=True)
    await held.release()  # raised before
    fresh = DatabaseLock(database, runtime="/run/b/mt.sock")
    await fresh.acquire()  # the lock was given up (or its session closed)
    await fresh.release()


async def _terminate_session(database: Any, lock: DatabaseLock) -> None:
    """End the lock's own session on the server, as a Postgres restart or a network cut does."""
    from sqlalchemy import text

    assert lock._connection is not None
    backend = await lock._connection.scalar(text("SELECT pg_backend_pid()"))
    await lock._connection.commit()
    async with database.engine.connect() as admin:
        assert await admin.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        await admin.commit()


async def test_a_lost_postgres_session_is_claimed_again_not_taken_for_a_takeover(database: Any) -> None:
    """Postgres restarted (or the network dropped) under a running daemon: the heartbeat found the lock's
    session gone and the daemon stopped, saying "another daemon took over this database's trading lock",
    though none had, and it never came back. Now the next beat claims the lock again on a new session and
    the daemon goes on; the lock is then held, so a second daemon is still refused."""
    if database.dialect != "postgresql":
        pytest.skip("the advisory lock's own session is Postgres only")
    held = DatabaseLock(database, runtime="/run/a/mt.sock")
    await held.acquire()
    await _terminate_session(database, held)
    assert await held.beat()  # was False: the daemon stopped
    assert held.held and held._connection is not None
    second = DatabaseLock(database, runtime="/run/b/mt.sock")
    with pytest.raises(errors.DaemonAlreadyRunning, match="/run/a/mt.sock"):
        await second.acquire()
    assert await held.beat()
    await held.release()
    await second.acquire()
    await second.release()


async def test_a_lock_taken_while_the_session_was_lost_stops_the_holder(database: Any) -> None:
    """The other side: when another daemon took the lock in the gap, the holder stops trading."""
    if database.dialect != "postgresql":
        pytest.skip("the advisory lock's own session is Postgres only")
    held = DatabaseLock(database, runtime="/run/a/mt.sock")
    await held.acquire()
    await _terminate_session(database, held)
    other = DatabaseLock(database, runtime="/run/b/mt.sock")
    await other.acquire()  # free once the server dropped the session
    assert not await held.beat()
    await held.release()  # leaves the new holder's claim alone
    third = DatabaseLock(database, runtime="/run/c/mt.sock")
    with pytest.raises(errors.DaemonAlreadyRunning, match="/run/b/mt.sock"):
        await third.acquire()
    await other.release()


class _LockedEngine:
    """An engine whose every transaction fails as SQLite's does on a file another process holds."""

    def begin(self) -> Any:
        import sqlite3

        from sqlalchemy.exc import OperationalError

        raise OperationalError(
            "DELETE FROM daemon_holder WHERE owner = ?",
            {"owner": "x"},
            sqlite3.OperationalError("database is locked"),
        )


async def test_a_lock_that_cannot_be_released_is_one_line_naming_the_cause_without_sql(
    database: Any, caplog: pytest.LogCaptureFixture
) -> None:
    lock = DatabaseLock(database, runtime="/run/a/mt.sock", settings=DbLockSettings(stale_after_s=60))
    await lock.acquire()
    real = lock.db
    lock.db = type("Locked", (), {"engine": _LockedEngine()})()  # type: ignore[assignment]
    try:
        await lock.release()
    finally:
        lock.db = real
    [said] = [r.getMessage() for r in caplog.records if "releasing the database lock" in r.getMessage()]
    assert said == "releasing the database lock failed: database is locked"
    assert "DELETE" not in said and "\n" not in said
