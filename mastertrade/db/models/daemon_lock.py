"""The trading daemon's claim on its database (``engine/db_lock.py``): one row, the owner and its
heartbeat. Used on SQLite, which has no advisory locks; Postgres uses ``pg_try_advisory_lock`` and
writes the row only to say who holds the lock."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class DaemonLockRecord(SQLModel, table=True):
    __tablename__ = "daemon_lock"

    id: int = Field(default=1, primary_key=True)
    owner: str = Field(max_length=64)
    """A random id of the daemon run holding the lock."""
    pid: int
    host: str = Field(max_length=255)
    runtime: str = Field(max_length=1024)
    """The daemon's socket (in its runtime folder), for the refusal message."""
    heartbeat: float
    """Unix time of the owner's last heartbeat; older than the stale timeout, the lock may be taken over."""
