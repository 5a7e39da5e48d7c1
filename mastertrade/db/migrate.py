"""Run the alembic migrations from code (``mt init``, daemon start, every command that opens the
database), on the caller's own async engine so SQLite and Postgres take the same path."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from mastertrade import __version__
from mastertrade.config import DbLockSettings
from mastertrade.db.daemon_holder import live_daemon
from mastertrade.db.revisions import declared_heads, declared_revisions
from mastertrade.errors import OperationFailed, UserInputError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
STALE_AFTER_S = DbLockSettings.model_fields["stale_after_s"].default
MIGRATION_LOCK_KEY = 0x4D54_6D69_6772_6174 & 0x7FFF_FFFF_FFFF_FFFF  # "MTmigrat" (the daemon's is "MTtrade1")


class SchemaTooNew(UserInputError):
    """The database was upgraded by a newer MasterTrade: this code cannot know its tables."""


class DaemonHoldsDatabase(UserInputError):
    """A schema upgrade is due but a live daemon (perhaps of an older version) trades the database."""


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revisions() -> set[str]:
    """The newest revision of every branch (each feature area branches from the base revision)."""
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def _current(connection: Connection) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    return set(MigrationContext.configure(connection).get_current_heads())


def _stamped(connection: Connection) -> set[str]:
    """The revisions recorded in the database (alembic's table, read with plain SQL)."""
    from sqlalchemy import inspect, text

    if not inspect(connection).has_table("alembic_version"):
        return set()
    return {str(row[0]) for row in connection.execute(text("SELECT version_num FROM alembic_version"))}


def _take_migration_lock(connection: Connection) -> None:
    """Hold the database's migration lock until the upgrade's transaction ends, so two processes opening
    an old database at once (a daemon starting and a command) upgrade it one after the other instead of
    both creating the same tables. SQLite: the write lock, taken at the transaction's start (it also
    makes the migrations' DDL part of the transaction). Postgres: a transaction advisory lock."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        from sqlalchemy import text

        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


def _upgrade(connection: Connection, stale_after_s: float) -> None:
    if _stamped(connection) == declared_heads():
        return  # current: alembic is not even imported (see mastertrade.db.revisions)
    _take_migration_lock(connection)
    stamped = _stamped(connection)  # another process may have upgraded it while this one waited
    if stamped == declared_heads():
        return
    unknown = stamped - declared_revisions()
    if unknown:
        raise SchemaTooNew(
            f"the database {connection.engine.url.render_as_string(hide_password=True)} has schema "
            f"revision {', '.join(sorted(unknown))}, newer than MasterTrade {__version__} knows: upgrade "
            "MasterTrade to open it (this version left it unchanged)"
        )
    # A running daemon (an older MasterTrade, say, after an upgrade of the package) would read and write
    # tables whose shape changed under it. The daemon upgrades at its own start before it takes the lock.
    holder = live_daemon(connection, stale_after_s=stale_after_s)
    if holder is not None:
        raise DaemonHoldsDatabase(
            f"the database {connection.engine.url.render_as_string(hide_password=True)} needs a schema "
            f"upgrade but {holder} trades it: stop it first (`mt daemon stop`), then run the command again "
            "(this command left the database unchanged)"
        )
    from alembic import command

    command.upgrade(alembic_config(connection), "heads")
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise OperationFailed(
                f"the schema upgrade left {len(broken)} rows of table {broken[0][0]} pointing at no row of "
                f"{broken[0][2]}: report this as a bug"
            )


async def upgrade(engine: AsyncEngine, *, stale_after_s: float = STALE_AFTER_S) -> None:
    """Bring the schema to the newest revisions; a no-op when it is already there. Refused with
    ``DaemonHoldsDatabase``, nothing changed, when an upgrade is due and a live daemon holds the database
    (``daemon_holder``; ``stale_after_s`` is ``[db_lock] stale_after_s``).

    On SQLite, foreign keys are off while the migrations run. Alembic changes a SQLite table by copying
    it, dropping the original and renaming the copy; with foreign keys on, dropping ``strategies`` would
    delete every row that cascades from it (each strategy's transition history). SQLite ignores the
    pragma inside a transaction, so it is set before the migration's transaction begins and restored
    after it ends; the keys are checked before the upgrade commits.
    """
    async with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await connection.commit()
        try:
            async with connection.begin():
                await connection.run_sync(_upgrade, stale_after_s)
        finally:
            if sqlite:
                await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                await connection.commit()


async def current_revisions(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return await connection.run_sync(_current)
