"""The async engine factory: SQLite (WAL, busy timeout) by default, Postgres through asyncpg.

``Database`` bundles the engine with its session factory; every command and service opens one with
``Database.open(settings)``, which also brings the schema up to the newest migration.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from mastertrade.config import SUPPORTED_DRIVERS, Settings, check_db_url, mask_url, with_async_driver
from mastertrade.errors import OperationFailed, UserInputError


def create_engine(url: str, *, busy_timeout_ms: int = 10_000, echo: bool = False) -> AsyncEngine:
    """An async engine for ``url`` (``postgresql://``, ``postgres://`` and ``sqlite:///`` reach the async
    drivers: :func:`~mastertrade.config.with_async_driver`); SQLite files get WAL, a busy timeout and
    foreign keys."""
    url = with_async_driver(url)
    try:
        check_db_url(url)
    except ValueError as exc:
        raise UserInputError(str(exc)) from None
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise UserInputError(
            f"invalid database URL {_shown(url)!r}: expected sqlite+aiosqlite:////PATH/FILE.db or"
            " postgresql+asyncpg://USER:PASSWORD@HOST:PORT/DATABASE"
        ) from None
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        # the driver refused it only while connecting, as a failed operation (exit 1)
        raise UserInputError(
            f"invalid database URL {parsed.render_as_string(hide_password=True)!r}: port {parsed.port}"
            " is not in 1..65535"
        )
    if parsed.drivername not in SUPPORTED_DRIVERS:
        raise UserInputError(
            f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}: "
            f"use {' or '.join(d + '://...' for d in SUPPORTED_DRIVERS)}"
        )
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:":
            path = Path(parsed.database).expanduser()
            if not path.is_absolute():
                raise UserInputError(
                    f"the SQLite file {parsed.database!r} in the database URL is a relative path, so each"
                    " folder mt runs from (cron, systemd, your shell) would get a database of its own:"
                    f" write it absolute, like sqlite+aiosqlite:///{Path(parsed.database).absolute()}"
                )
            parsed = parsed.set(database=str(path))  # SQLite itself does not expand ~
            try:
                _private_file(path)
            except OSError as exc:
                raise OperationFailed(f"cannot open database {path}: {exc.strerror or exc}") from None
        engine = create_async_engine(parsed, echo=echo, connect_args={"timeout": busy_timeout_ms / 1000})
        _sqlite_pragmas(engine, busy_timeout_ms)
        return engine
    return create_async_engine(parsed, echo=echo, pool_pre_ping=True)


def _shown(url: str) -> str:
    """A URL SQLAlchemy could not read, safe to print: masked, or only what follows its last ``@`` when
    the password cannot be told apart."""
    masked = mask_url(url)
    if "@" in masked and ":***@" not in masked:
        return "***@" + masked.rpartition("@")[2]
    return masked


def _reason(exc: BaseException) -> str:
    """The first line of a driver's error (SQLAlchemy wraps it with the SQL and a link), which names
    the host or file but not the password."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(cause).strip()
    return text.splitlines()[0] if text else type(cause).__name__


def _private_file(path: Path) -> None:
    """Create the SQLite file 0600 (its folder 0700 when created here) before SQLite opens it: it holds
    orders and balances. SQLite gives its -wal and -shm files the database file's mode. A file or
    folder that exists keeps its mode (the user chose it)."""
    folder = path.parent
    if not folder.exists():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder.chmod(0o700)  # mkdir's mode is masked by the umask
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def _sqlite_pragmas(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        _write_ahead_log(cursor, busy_timeout_ms)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def _write_ahead_log(cursor: Any, busy_timeout_ms: int) -> None:
    """WAL, which lets the TUI, the CLI and the daemon read while one of them writes.

    Connections switching a new database file to WAL at the same moment (a daemon starting beside a
    command) can be told "database is locked" at once: SQLite does not wait on the busy timeout there,
    to avoid a deadlock between two readers that both want the file to themselves. The switch is then
    retried until the busy timeout; once one connection has made it, the others' is a no-op."""
    from sqlalchemy.util import await_only

    deadline = time.monotonic() + busy_timeout_ms / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as exc:  # the driver's OperationalError, wrapped by SQLAlchemy's adapter
            if "database is locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        await_only(asyncio.sleep(0.01))  # on the event loop, as the driver's own calls are


class Database:
    """An engine, its session factory and what kind of database it talks to."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def url(self) -> str:
        """The URL with any password hidden, safe to print."""
        return self.engine.url.render_as_string(hide_password=True)

    @classmethod
    async def open(cls, settings: Settings, *, migrate: bool = True) -> Database:
        """Open the configured database and (by default) bring its schema to the newest migration."""
        url = settings.db_url()
        engine = create_engine(url, busy_timeout_ms=settings.db.busy_timeout_ms, echo=settings.db.echo)
        database = cls(engine)
        if database.dialect == "postgresql":
            from mastertrade.db.asyncpg_probe import quiet_probe_leak

            quiet_probe_leak(asyncio.get_running_loop())
        if migrate:
            from mastertrade.db.migrate import upgrade

            try:
                await upgrade(engine, stale_after_s=settings.db_lock.stale_after_s)
            except BaseException as exc:
                await engine.dispose()
                if isinstance(exc, OSError | DBAPIError):  # no server, refused, bad password, bad path
                    raise OperationFailed(f"cannot open database {mask_url(url)}: {_reason(exc)}") from None
                raise
        return database

    async def close(self) -> None:
        await self.engine.dispose()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
