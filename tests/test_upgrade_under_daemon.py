"""A schema upgrade is refused while a live daemon trades the database (it would read and write tables
whose shape changed under it, e.g. an older daemon left running after the package was upgraded): one
line naming the daemon, exit 2, the schema unchanged. Once the daemon is gone, or its claim is stale,
the upgrade runs; with no upgrade due, commands work beside the daemon. A daemon older than the lock
table is seen by its pid file. On SQLite and on Postgres."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from mastertrade.config import DbLockSettings
from mastertrade.db.database import Database, create_engine
from mastertrade.db.revisions import declared_heads
from mastertrade.engine.db_lock import DatabaseLock
from tests.conftest import MT

OLD = {"0002", "live_0001"}  # a MasterTrade from before the selection revision (s12a) and the others


def _store_old(connection: Connection) -> None:
    from alembic import command

    from mastertrade.db.migrate import alembic_config

    for revision in sorted(OLD):
        command.upgrade(alembic_config(connection), revision)


async def _stamped(db: Database) -> set[str]:
    async with db.engine.connect() as connection:
        return {row[0] for row in await connection.execute(text("SELECT version_num FROM alembic_version"))}


async def test_an_upgrade_is_refused_while_a_daemon_holds_the_database(mt: MT, db_url: str) -> None:
    db = Database(create_engine(db_url))
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(_store_old)
        lock = DatabaseLock(db, runtime="/run/old/mt.sock", settings=DbLockSettings(stale_after_s=60))
        await lock.acquire()
        for args in (("init",), ("data", "list")):
            result = await asyncio.to_thread(mt, *args)
            assert result.exit_code == 2, result.stderr + result.stdout
            assert re.fullmatch(
                re.escape(
                    f"mt: error: the database {db.url} needs a schema upgrade but the daemon"
                    f" pid {os.getpid()} on {socket.gethostname()} (socket /run/old/mt.sock, alive "
                )
                + r"\d+"
                + re.escape(
                    " s ago) trades it: stop it first (`mt daemon stop`), then run the command again (this"
                    " command left the database unchanged)"
                ),
                result.stderr.splitlines()[-1],
            ), result.stderr
            assert await _stamped(db) == OLD
        await lock.release()
        assert (await asyncio.to_thread(mt, "data", "list")).exit_code == 0
        assert await _stamped(db) == declared_heads()
        await lock.acquire()  # no upgrade due: commands work beside the daemon, as they always did
        listed = await asyncio.to_thread(mt, "data", "list")
        assert listed.exit_code == 0, listed.stderr
        await lock.release()
    finally:
        await db.close()


async def test_a_stale_claim_does_not_block_the_upgrade(mt: MT, db_url: str) -> None:
    # A daemon that froze or died elsewhere: its heartbeat is older than [db_lock] stale_after_s.
    db = Database(create_engine(db_url))
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(_store_old)
        if db.dialect == "sqlite":  # Postgres drops a dead daemon's advisory lock with its connection
            lock = DatabaseLock(db, runtime="/run/old/mt.sock", clock=lambda: time.time() - 61)
            await lock.acquire()
        result = await asyncio.to_thread(mt, "data", "list")
        assert result.exit_code == 0, result.stderr
        assert await _stamped(db) == declared_heads()
    finally:
        await db.close()


PRE_LOCK = {"0002", "0003", "0005", "0006"}  # the heads of a MasterTrade older than the daemon_lock table

# An older daemon, as far as a newer MasterTrade can see it: its pid file, locked for its whole life
# (every daemon version did so), and no claim in the database.
OLD_DAEMON = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, f"{os.getpid()}\\n".encode())
print("ready", flush=True)
sys.stdin.read()
"""


def _old_daemon() -> subprocess.Popen[str]:
    """An older daemon of the test's workspace, running until its stdin is closed."""
    from mastertrade.locations import ensure_private_dir, locations

    pid_file = locations().pid_file
    ensure_private_dir(pid_file.parent)
    old = subprocess.Popen(
        [sys.executable, "-c", OLD_DAEMON, str(pid_file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert old.stdout is not None and old.stdout.readline() == "ready\n"
    return old


def _store_pre_lock(connection: Connection) -> None:
    from alembic import command

    from mastertrade.db.migrate import alembic_config

    for revision in sorted(PRE_LOCK):
        command.upgrade(alembic_config(connection), revision)


async def test_an_upgrade_is_refused_while_a_daemon_older_than_the_lock_table_runs(
    mt: MT, db_url: str
) -> None:
    from mastertrade.engine.daemon import DaemonLock
    from mastertrade.locations import locations

    where = locations()
    db = Database(create_engine(db_url))
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(_store_pre_lock)
        old = _old_daemon()
        try:
            for args in (("init",), ("data", "list")):
                result = await asyncio.to_thread(mt, *args)
                assert result.exit_code == 2, result.stderr + result.stdout
                assert result.stderr.splitlines()[-1] == (
                    f"mt: error: the database {db.url} needs a schema upgrade but the daemon pid {old.pid}"
                    f" on {socket.gethostname()} (socket {where.socket_file}) trades it: stop it first"
                    " (`mt daemon stop`), then run the command again (this command left the database"
                    " unchanged)"
                )
                assert await _stamped(db) == PRE_LOCK
        finally:
            old.communicate(input="", timeout=10)
        # A daemon upgrading at its own start holds its own pid file: that is not a daemon in the way.
        own = DaemonLock(where.pid_file)
        own.acquire()
        try:
            listed = await asyncio.to_thread(mt, "data", "list")
            assert listed.exit_code == 0, listed.stderr
        finally:
            own.release()
        assert await _stamped(db) == declared_heads()
    finally:
        await db.close()


def test_a_new_database_is_created_beside_an_older_daemon(
    mt: MT, mt_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty database is no daemon's (a daemon's start creates its tables): the workspace's daemon,
    older or not, does not stop a command from setting up another one."""
    monkeypatch.setenv("MT_DB__URL", f"sqlite+aiosqlite:///{mt_home}/data/other.db")
    old = _old_daemon()
    try:
        result = mt("data", "list")
        assert result.exit_code == 0, result.stderr
    finally:
        old.communicate(input="", timeout=10)
