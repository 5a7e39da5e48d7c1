"""One trading daemon per database, enforced by the database itself.

The pid file and the socket live in the runtime folder (``XDG_RUNTIME_DIR``), which differs between a
login shell and cron, or between two users of one Postgres: they cannot stop a second daemon from
trading the same account. The database can, whatever the environment:

- **Postgres**: a session-level advisory lock (``pg_try_advisory_lock``) held on a connection of its
  own for the daemon's life; the server drops it when that connection dies (a crash, kill -9, a lost
  network), so it is never stale. The ``daemon_lock`` row only records who holds it, for the message.
- **SQLite** has no advisory locks, and a file lock would not survive WAL readers well, so the lock is
  the ``daemon_lock`` row: owner, pid, host, runtime folder and a heartbeat. It is claimed in one
  statement (an upsert that only overwrites the row when it is ours or stale), so two daemons starting
  together cannot both win. The holder beats every ``heartbeat_s``; a row whose heartbeat is older than
  ``stale_after_s``, or whose pid is dead on this host, is taken over. A holder that finds the row taken
  (it was frozen longer than the stale timeout) has lost the lock and stops trading.

A second daemon is refused with ``DaemonAlreadyRunning`` naming the holder (pid, host, runtime folder).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from mastertrade.config import DbLockSettings
from mastertrade.db.daemon_holder import ADVISORY_KEY, HOLDER
from mastertrade.db.database import Database
from mastertrade.errors import DaemonAlreadyRunning
from mastertrade.pids import process_alive

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

log = logging.getLogger(__name__)


_CLAIM = text(
    "INSERT INTO daemon_lock (id, owner, pid, host, runtime, heartbeat) "
    "VALUES (1, :owner, :pid, :host, :runtime, :now) "
    "ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, pid = excluded.pid, host = excluded.host, "
    "runtime = excluded.runtime, heartbeat = excluded.heartbeat "
    "WHERE daemon_lock.owner = excluded.owner OR daemon_lock.heartbeat < :stale "
    "OR daemon_lock.owner = :dead"
)
_BEAT = text("UPDATE daemon_lock SET heartbeat = :now WHERE id = 1 AND owner = :owner")
_RELEASE = text("DELETE FROM daemon_lock WHERE id = 1 AND owner = :owner")


class DatabaseLock:
    """The daemon's claim on its database (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        *,
        runtime: str,
        settings: DbLockSettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``settings``: ``[db_lock]`` (heartbeat_s, stale_after_s); its defaults when None."""
        settings = settings or DbLockSettings()
        self.db = db
        self.runtime = runtime
        self.heartbeat_s = settings.heartbeat_s
        self.stale_after_s = settings.stale_after_s
        self.clock = clock
        self.owner = uuid.uuid4().hex
        self.pid = os.getpid()
        self.host = socket.gethostname()
        self._connection: Any = None
        self.held = False

    @property
    def postgres(self) -> bool:
        return self.db.dialect == "postgresql"

    async def acquire(self) -> None:
        """Claim the database, or raise ``DaemonAlreadyRunning`` naming the daemon that holds it."""
        if self.postgres:
            connection = await self.db.engine.connect()
            got = await connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY})
            won = bool(got.scalar())
            await connection.commit()
            if not won:
                await connection.close()
                raise DaemonAlreadyRunning(await self._refusal())
            self._connection = connection
            await self._claim(force=True)
        elif not await self._claim(force=False):
            raise DaemonAlreadyRunning(await self._refusal())
        self.held = True
        log.info("holding the database's trading lock (owner %s)", self.owner)

    async def _claim(self, *, force: bool) -> bool:
        now = self.clock()
        async with self.db.engine.begin() as connection:
            holder = (await connection.execute(HOLDER)).first()
            dead = ""
            if holder is not None and holder.host == self.host and not process_alive(int(holder.pid)):
                dead = str(holder.owner)  # its process is gone: no need to wait for the stale timeout
            await connection.execute(
                _CLAIM,
                {
                    "owner": self.owner,
                    "pid": self.pid,
                    "host": self.host,
                    "runtime": self.runtime,
                    "now": now,
                    "stale": float("inf") if force else now - self.stale_after_s,
                    "dead": dead,
                },
            )
            mine = (await connection.execute(HOLDER)).first()
        return mine is not None and mine.owner == self.owner

    async def _refusal(self) -> str:
        async with self.db.engine.connect() as connection:
            holder = (await connection.execute(HOLDER)).first()
        where = self.db.url
        if holder is None:
            return f"another daemon already trades the database {where}: stop it first (mt daemon stop)"
        age = max(0.0, self.clock() - float(holder.heartbeat))
        return (
            f"another daemon already trades the database {where}: pid {holder.pid} on {holder.host} "
            f"(socket {holder.runtime}, alive {age:.0f} s ago): stop it first (mt daemon stop where its "
            f"socket is found, or kill {holder.pid})"
        )

    async def beat(self) -> bool:
        """Renew the claim; False when it was lost (another daemon took it over, or Postgres dropped
        the lock's connection)."""
        try:
            if self.postgres:
                await self._connection.execute(text("SELECT 1"))
                await self._connection.commit()
            async with self.db.engine.begin() as connection:
                result = await connection.execute(_BEAT, {"now": self.clock(), "owner": self.owner})
                renewed = result.rowcount == 1
        except Exception as exc:  # a database we cannot reach: the lock may be gone with it
            log.warning("database lock heartbeat failed: %s", exc)
            return not self.postgres  # SQLite: the row stays ours until another daemon claims it
        return renewed or self.postgres

    async def hold(self, on_lost: Callable[[str], object]) -> None:
        """Beat until cancelled; call ``on_lost`` with the reason and return if the claim is lost."""
        while True:
            await asyncio.sleep(self.heartbeat_s)
            if not await self.beat():
                self.held = False
                on_lost("another daemon took over this database's trading lock: stopping")
                return

    async def release(self) -> None:
        if not self.held and self._connection is None:
            return
        self.held = False
        try:
            async with self.db.engine.begin() as connection:
                await connection.execute(_RELEASE, {"owner": self.owner})
        except Exception as exc:
            log.warning("releasing the database lock failed: %s", exc)
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                await _unlock(connection)
            except Exception as exc:
                # the session goes instead: Postgres drops a session's advisory locks with it
                log.warning("releasing the database's advisory lock failed: %s; closing its session", exc)
                await connection.invalidate()
            finally:
                await connection.close()


async def _unlock(connection: AsyncConnection) -> None:
    """Give up the advisory lock on its own session. A heartbeat cancelled inside its query (the daemon
    stopping at that moment) leaves the session waiting for a rollback, which comes first then: the
    unlock alone failed with ``PendingRollbackError`` and the daemon's stop with it, before it closed
    the database and removed its socket."""
    unlock = text("SELECT pg_advisory_unlock(:key)")
    try:
        await connection.execute(unlock, {"key": ADVISORY_KEY})
    except Exception:  # noqa: BLE001 - any failure: roll back and try once more
        await connection.rollback()
        await connection.execute(unlock, {"key": ADVISORY_KEY})
    await connection.commit()
