"""Whether a live trading daemon holds a database, asked on a plain connection by a process that is not
the daemon (the schema upgrade, which must not change tables under a running daemon).

The lock itself is ``mastertrade.engine.db_lock``; this module is the storage layer's read of it, so the
migrations need not import the engine. A holder is live as the lock's own claim judges it: on Postgres
while its advisory lock is held (the server drops it with a dead daemon's connection); on SQLite while
the ``daemon_lock`` row's heartbeat is younger than the stale timeout and its pid, on this host, runs.
A database whose schema predates the ``daemon_lock`` table is held by the daemon of this workspace when
that daemon's pid file is locked: the one trace every daemon version leaves (``_pid_file_daemon``).
"""

from __future__ import annotations

import os
import socket
import time

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from mastertrade.pids import pid_file_holder, process_alive

ADVISORY_KEY = 0x4D54_7472_6164_6531 & 0x7FFF_FFFF_FFFF_FFFF  # "MTtrade1": the daemon's lock number
HOLDER = text("SELECT owner, pid, host, runtime, heartbeat FROM daemon_lock WHERE id = 1")


def live_daemon(connection: Connection, *, stale_after_s: float) -> str | None:
    """Who holds the database (``pid N on HOST (socket ..., alive N s ago)``), or None when no live
    daemon does. On Postgres it takes the daemon's lock for the caller's transaction when free, so no
    daemon can start trading until that transaction ends."""
    has_lock_table = inspect(connection).has_table("daemon_lock")
    if connection.dialect.name == "postgresql":
        free = connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ADVISORY_KEY})
        if not free.scalar():
            holder = connection.execute(HOLDER).first() if has_lock_table else None
            return "a daemon" if holder is None else _describe(holder)
    if not has_lock_table:
        # An empty database (no schema yet) is no daemon's: a daemon's own start creates the tables.
        return _pid_file_daemon() if inspect(connection).has_table("alembic_version") else None
    if connection.dialect.name == "postgresql":
        return None
    holder = connection.execute(HOLDER).first()
    if holder is None or float(holder.heartbeat) < time.time() - stale_after_s:
        return None
    if holder.host == socket.gethostname() and not process_alive(int(holder.pid)):
        return None
    return _describe(holder)


def _pid_file_daemon() -> str | None:
    """A daemon older than the ``daemon_lock`` table takes no lock in the database, but every daemon
    version holds the pid file of its workspace (``locations().pid_file``, the same path since the first
    daemon) locked for its whole life: a live holder other than this process (a daemon upgrading at its
    own start holds its own) is such a daemon. Only the schema's own age makes it the database's: a daemon
    that predates the table cannot run on a database that has it (its migrations refuse a revision they
    do not know), so with the table present the lock row is the whole answer."""
    from mastertrade.locations import locations

    where = locations()
    pid = pid_file_holder(where.pid_file)
    if pid is None or pid == os.getpid():
        return None
    shown = f"pid {pid}" if pid > 0 else f"holding {where.pid_file}"
    return f"the daemon {shown} on {socket.gethostname()} (socket {where.socket_file})"


def _describe(holder: object) -> str:
    pid, host, runtime, heartbeat = (
        getattr(holder, name) for name in ("pid", "host", "runtime", "heartbeat")
    )
    age = max(0.0, time.time() - float(heartbeat))
    return f"the daemon pid {pid} on {host} (socket {runtime}, alive {age:.0f} s ago)"
