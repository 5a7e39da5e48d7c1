"""One trading daemon per database, enforced by the database itself.

The pid file and the socket live in the runtime folder (``XDG_RUNTIME_DIR``), which differs between a
login shell and cron, or between two users of one Postgres: they cannot stop a second daemon from
trading the same account. The database can, whatever the environment:

- **Postgres**: a session-level advisory lock (``pg_try_advisory_lock``) held on a connection of its
  own for the daemon's life; the server drops it when that connection dies (a crash, kill -9, a lost
  network), so it is never stale. The ``daemon_lock`` row only records who holds it, for the message.
  When the lock's session is lost with the server (a restart, a network cut), the daemon claims the lock
  again on a new session as soon as the server answers, and stops only if another daemon holds it by
  then: an outage of the database is not a takeover.
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
from mastertrade.db.trouble import database_trouble, first_line
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
        self._backend: int | None = None  # the Postgres backend (session) holding the advisory lock
        self._waiting = False  # the lock's session was lost and the server has not answered since
        self.unreleased = False
        """Set by ``acquire``: the claim replaced one its daemon never released (it did not stop
        cleanly: killed, crashed or the machine lost power), whatever became of its pid file."""
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
            self._backend = await _backend(connection)
            await self._claim(force=True)
        elif not await self._claim(force=False):
            raise DaemonAlreadyRunning(await self._refusal())
        self.held = True
        log.info("holding the database's trading lock (owner %s)", self.owner)

    async def _claim(self, *, force: bool) -> bool:
        now = self.clock()
        async with self.db.engine.begin() as connection:
            holder = (await connection.execute(HOLDER)).first()
            if holder is not None and holder.owner != self.owner:
                self.unreleased = True  # a clean stop deletes its row (``release``)
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
        """Renew the claim; False when it was lost to another daemon (it took over a stale SQLite claim,
        or holds the Postgres lock that the server dropped with this daemon's session)."""
        if self.postgres and self._connection is None:
            return await self._reclaim()
        try:
            if self.postgres and await _backend(self._connection) != self._backend:
                return await self._lost_session()  # SQLAlchemy reconnected it: a session without the lock
            async with self.db.engine.begin() as connection:
                result = await connection.execute(_BEAT, {"now": self.clock(), "owner": self.owner})
                renewed = result.rowcount == 1
        except Exception as exc:  # a database we cannot reach
            log.warning("database lock heartbeat failed: %s", _first_line(exc))
            if self.postgres and not await self._session_alive():
                return await self._lost_session()
            return True  # SQLite: the row stays ours until another daemon claims it
        return renewed or self.postgres

    async def _lost_session(self) -> bool:
        """The server dropped the advisory lock with its session: claim it again on a new one once the
        server answers (``_reclaim``), unless another daemon has it by then."""
        await self._drop_session()
        log.warning("lost the database session holding the trading lock: claiming it again")
        return await self._reclaim()

    async def _session_alive(self) -> bool:
        """Whether the lock's own session still answers (the heartbeat may have failed on the pool). The
        same backend must answer: SQLAlchemy opens a new session on a connection it found broken, and
        that one holds no lock."""
        try:
            await self._connection.rollback()
            backend = await _backend(self._connection)
        except Exception:  # noqa: BLE001 - any failure: the session is gone
            return False
        return backend == self._backend

    async def _drop_session(self) -> None:
        connection, self._connection = self._connection, None
        try:
            await connection.invalidate()
            await connection.close()
        except Exception as exc:  # noqa: BLE001 - a dead session may fail to close; it is gone either way
            log.debug("closing the lost lock session: %s", exc)

    async def _reclaim(self) -> bool:
        """Claim the Postgres lock again after its session was lost. True while it is ours again or the
        server does not answer yet (nothing can be written then), False when another daemon holds it."""
        try:
            connection = await self.db.engine.connect()
        except Exception as exc:
            # said once an outage, not at every retry (one a second)
            (log.debug if self._waiting else log.warning)(
                "the database does not answer; the trading lock is claimed again when it does: %s",
                _first_line(exc),
            )
            self._waiting = True
            return True
        self._waiting = False
        try:
            got = await connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY})
            won = bool(got.scalar())
            await connection.commit()
        except Exception as exc:
            await connection.close()
            log.warning("claiming the trading lock again failed, retrying: %s", _first_line(exc))
            return True
        if not won:
            await connection.close()
            try:
                async with self.db.engine.connect() as reader:
                    holder = (await reader.execute(HOLDER)).first()
            except Exception:  # noqa: BLE001 - unknown holder: try again at the next beat
                return True
            # our old session may still linger on the server (it has not noticed the cut yet): not lost
            return holder is not None and holder.owner == self.owner
        try:
            self._backend = await _backend(connection)
        except Exception as exc:
            await connection.close()  # the lock goes with the session
            log.warning("claiming the trading lock again failed, retrying: %s", _first_line(exc))
            return True
        self._connection = connection
        try:
            await self._claim(force=True)  # the row names this daemon again (for another's refusal)
        except Exception as exc:  # noqa: BLE001 - the advisory lock is what counts; the row follows
            log.warning("recording the trading lock's holder failed: %s", _first_line(exc))
        log.info("the database answers again: holding its trading lock again (owner %s)", self.owner)
        return True

    @property
    def reclaiming(self) -> bool:
        """The Postgres lock's session was lost and is not claimed again yet."""
        return self.postgres and self.held and self._connection is None

    async def hold(self, on_lost: Callable[[str], object]) -> None:
        """Beat until cancelled; call ``on_lost`` with the reason and return if the claim is lost."""
        while True:
            # while the lock is to be claimed again, try every second: the sooner it is ours again, the
            # shorter another daemon (or a schema upgrade) could take it
            await asyncio.sleep(min(self.heartbeat_s, 1.0) if self.reclaiming else self.heartbeat_s)
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
            # one line naming the cause: SQLAlchemy's text goes on with the SQL statement and its parameters
            log.warning("releasing the database lock failed: %s", database_trouble(exc) or first_line(exc))
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                await _unlock(connection)
            except Exception as exc:
                # the session goes instead: Postgres drops a session's advisory locks with it
                log.warning(
                    "releasing the database's advisory lock failed: %s; closing its session",
                    database_trouble(exc) or first_line(exc),
                )
                await connection.invalidate()
            finally:
                await connection.close()


async def _backend(connection: AsyncConnection) -> int:
    """The server process of a Postgres session (a new session has another)."""
    backend = await connection.scalar(text("SELECT pg_backend_pid()"))
    await connection.commit()
    return int(backend)


def _first_line(exc: BaseException) -> str:
    """A driver error's first line (SQLAlchemy appends the SQL and a link to it)."""
    text_ = str(exc).strip()
    return text_.splitlines()[0] if text_ else type(exc).__name__


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
