"""A database the daemon cannot use (locked by another process, full, down) is said in one line where the
operator looks: a crashed service's last error (``mt status``, the TUI) and its ``service_failure`` alert
name the database and the driver's words, not an ``ExceptionGroup`` or the SQL statement."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from mastertrade.config import Settings
from mastertrade.db.trouble import database_trouble
from mastertrade.engine.kernel.context import EngineContext
from tests.daemon.conftest import configure, core_daemon
from tests.daemon.fakes import FakeVenue, RecordingNotifier, wait_for


class GroupedWriter:
    """A service whose work runs in a TaskGroup (as the alerts service's does) and writes to the database
    when told to."""

    name = "writer"

    def __init__(self) -> None:
        self.go = asyncio.Event()

    async def run(self, ctx: EngineContext) -> None:
        await self.go.wait()

        async def write() -> None:
            async with ctx.db.engine.begin() as connection:
                await connection.execute(text("CREATE TABLE IF NOT EXISTS scratch (x INTEGER)"))

        async with asyncio.TaskGroup() as group:
            group.create_task(write())
        await asyncio.Event().wait()  # wrote: keep running


@pytest.fixture
def settings(mt_home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("MT_DB__URL", f"sqlite+aiosqlite:///{mt_home}/data/test.db")
    return configure(db={"busy_timeout_ms": 50})


async def test_a_service_crashed_by_a_locked_database_says_so_in_one_line(
    settings: Settings, mt_home: Path
) -> None:
    from mastertrade.engine.alerts.service import AlertService

    writer, notifier = GroupedWriter(), RecordingNotifier()
    settings = settings.model_copy(
        update={"alerts": settings.alerts.model_copy(update={"urls": ["json://127.0.0.1:9/hook"]})}
    )
    daemon = core_daemon(
        settings,
        venue=FakeVenue(),
        notifier=notifier,
        serve_api=False,
        services=lambda ctx: [AlertService(), writer],
    )
    ctx = await daemon.start()
    other = sqlite3.connect(mt_home / "data" / "test.db", isolation_level=None, check_same_thread=False)
    try:
        # taken off the loop: a daemon write in flight on this loop must finish for the lock to come
        await asyncio.to_thread(other.execute, "BEGIN EXCLUSIVE")  # another process holds the file
        writer.go.set()
        status = ctx.state.services["writer"]
        await wait_for(lambda: status.restarts >= 1)
        # was "ExceptionGroup: unhandled errors in a TaskGroup (1 sub-exception)"
        assert status.last_error == "the database cannot be used: database is locked"
        other.execute("COMMIT")
        sent = await wait_for(lambda: [s for s in notifier.sent if "writer" in s["title"]], timeout=10)
        assert sent[0]["body"].startswith("the database cannot be used: database is locked")
    finally:
        if other.in_transaction:
            other.execute("COMMIT")
        other.close()
        await daemon.stop()


async def test_what_is_not_the_database_s_trouble_is_not_called_so(settings: Settings) -> None:
    """A bug keeps its name and traceback: only the driver's own words for an unusable database count."""
    from sqlalchemy.exc import IntegrityError, OperationalError

    locked = OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))
    grouped = ExceptionGroup("unhandled errors in a TaskGroup", [locked])
    assert database_trouble(grouped) == "database is locked"
    unique: Any = IntegrityError("INSERT ...", {}, sqlite3.IntegrityError("UNIQUE constraint failed"))
    assert database_trouble(unique) is None
    assert database_trouble(ConnectionRefusedError(111, "refused")) is None  # not raised by the driver
    assert database_trouble(KeyError("x")) is None


async def test_the_api_answers_503_naming_the_database(settings: Settings, mt_home: Path) -> None:
    """The API answered "internal error (ConnectionRefusedError); see the daemon log" (500) to an order
    sent while PostgreSQL was down; a locked SQLite file was the same. It now answers 503
    ``database_unavailable`` naming why, and the client raises ``DatabaseUnavailable`` with it."""
    import httpx

    from mastertrade import errors
    from mastertrade.engine.api.app import create_app

    daemon = core_daemon(settings, venue=FakeVenue(), notifier=RecordingNotifier(), serve_api=False)
    ctx = await daemon.start()
    other = sqlite3.connect(mt_home / "data" / "test.db", isolation_level=None, check_same_thread=False)
    transport = httpx.ASGITransport(app=create_app(ctx))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://mt") as http:
            await ctx.alerts.load()
            # taken off the loop: a daemon write in flight on this loop must finish for the lock to come
            await asyncio.to_thread(other.execute, "BEGIN EXCLUSIVE")
            response = await http.post(
                "/v1/alerts/rules", json={"kind": "price_cross", "symbol": "BTC/USDT", "level": 70000}
            )
            other.execute("COMMIT")
        assert response.status_code == 503, response.text
        error = response.json()["error"]
        assert error["code"] == "database_unavailable"
        assert error["message"] == (
            "the daemon's database cannot be used: database is locked (see `mt daemon logs`)"
        )
        from mastertrade.client import error_from_response

        assert isinstance(error_from_response(response), errors.DatabaseUnavailable)
    finally:
        if other.in_transaction:
            other.execute("COMMIT")
        other.close()
        await daemon.stop()


@pytest.mark.xdist_group("daemon-process")
def test_a_daemon_that_meets_a_locked_database_at_start_says_so(mt_home: Path) -> None:
    """`mt daemon start` while another process held the SQLite file: "the daemon failed: OperationalError:
    (sqlite3.OperationalError) database is locked", and a traceback in the log, as for a bug."""
    import os
    import subprocess
    import sys

    mt = str(Path(sys.executable).with_name("mt"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MT_")}
    env.update(
        MT_HOME=str(mt_home),
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
        MT_DB__BUSY_TIMEOUT_MS="50",
        MT_MARKET__VENUE="sim",
        MT_COLLECTORS__ENABLED="false",
        MT_SCHEDULER__ENABLED="false",
    )
    assert subprocess.run([mt, "data", "list"], env=env, capture_output=True, timeout=120).returncode == 0
    other = sqlite3.connect(mt_home / "data" / "mastertrade.db", isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        started = subprocess.run(
            [mt, "daemon", "start", "--foreground"], env=env, capture_output=True, text=True, timeout=120
        )
    finally:
        other.execute("COMMIT")
        other.close()
    assert started.returncode == 1, started.stderr
    said = started.stderr.splitlines()[-1]  # in the foreground the log goes to stderr too
    assert said.startswith(
        "mt: error: the daemon could not run: the database cannot be used: database is locked (see "
    ), started.stderr
    assert "Traceback" not in started.stderr
    assert "Traceback" not in (mt_home / "logs" / "daemon.log").read_text()
