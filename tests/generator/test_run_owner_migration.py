"""The ``s37_run_owner`` migration adds a generation run's owner on SQLite and Postgres: the schema then
matches the models, and a run stored "running" before it keeps its outcome (it names no owner, so nothing
can tell whether it still runs) and is left as it is when runs are read."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from mastertrade.db.database import Database, create_engine
from mastertrade.db.migrate import alembic_config, upgrade
from mastertrade.db.models import metadata
from mastertrade.engine.generator.store import StrategyStore

OLD_RUN = (
    "INSERT INTO generation_runs (trigger, exchange, symbol, timeframe, seed, parameters, counts, timings,"
    " outcome, started_at) VALUES ('cli', 'sim', 'BTC/USDT', '1h', 7, '{}', '{}', '{}', 'running',"
    " '2026-12-01 09:00:00+00')"
)


async def test_the_upgrade_adds_the_owner_and_leaves_older_runs_running(db_url: str) -> None:
    def store_old(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), "s34_trial_key_index")
        connection.execute(text(OLD_RUN))

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [diff for diff in compare_metadata(context, metadata) if "generation_runs" in str(diff)]

    engine = create_engine(db_url)  # on SQLite and on Postgres, upgraded as opening it does
    try:
        async with engine.begin() as connection:
            await connection.run_sync(store_old)
        await upgrade(engine)
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    text("SELECT outcome, owner_pid, owner_host, owner_started FROM generation_runs")
                )
            ).one()
            diffs = await connection.run_sync(compare)
    finally:
        await engine.dispose()
    assert tuple(row) == ("running", None, None, None)
    assert diffs == []
    from mastertrade.config import load_settings

    db = await Database.open(load_settings())
    try:
        [run] = await StrategyStore(db).runs()
    finally:
        await db.close()
    assert (run.outcome, run.owner, run.finished_at) == ("running", None, None)
