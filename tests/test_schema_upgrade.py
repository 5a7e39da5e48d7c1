"""Opening a database stored by an older MasterTrade upgrades its schema and keeps every row; a database
upgraded by a newer MasterTrade is refused in one line and left as it is. On SQLite and on Postgres."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from mastertrade.db.database import create_engine
from mastertrade.db.migrate import alembic_config, upgrade
from mastertrade.db.revisions import declared_heads
from tests.conftest import MT

STRATEGY = (
    "INSERT INTO strategies (id, name, fingerprint, symbol, timeframe, state, genome, metrics, in_sample,"
    " out_of_sample, folds, complexity, created_at, updated_at, state_since) VALUES ('00aa11bb22cc33dd',"
    " 'old', '00aa11bb22cc33dd', 'BTC/USDT', '1h', 'paper', '{}', '{}', '{}', '{\"sharpe\": 3.5}', '[]', 1,"
    " '2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00')"
)
TRANSITION = (
    "INSERT INTO strategy_transitions (strategy_id, from_state, to_state, reason, at) VALUES"
    " ('00aa11bb22cc33dd', 'passed', 'paper', 'mt strategy paper', '2026-01-01 00:00:00+00')"
)


def _store_at_0002(connection: Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), "0002")
    connection.execute(text(STRATEGY))
    connection.execute(text(TRANSITION))


async def test_upgrade_keeps_the_rows_that_cascade_from_a_rebuilt_table(db_url: str) -> None:
    # The selection revision rebuilds ``strategies`` on SQLite (copy, drop, rename); with the foreign
    # keys MasterTrade turns on, the drop used to delete every strategy's transition history.
    engine = create_engine(db_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_store_at_0002)
        await upgrade(engine)
        async with engine.connect() as connection:
            transitions = (await connection.execute(text("SELECT reason FROM strategy_transitions"))).all()
            selection = (await connection.execute(text("SELECT selection FROM strategies"))).scalar_one()
            keys_on = await connection.exec_driver_sql(
                "PRAGMA foreign_keys" if connection.dialect.name == "sqlite" else "SELECT 1"
            )
            assert keys_on.scalar_one() == 1  # the pooled connection enforces foreign keys again
    finally:
        await engine.dispose()
    assert [row[0] for row in transitions] == ["mt strategy paper"]
    assert "legacy" in str(selection)


async def _stamp_future(db_url: str) -> set[str]:
    """Stamp the database as a newer MasterTrade would leave it; the revisions it then holds."""
    engine = create_engine(db_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE alembic_version SET version_num = 'zz_future' WHERE version_num = :head"),
                {"head": min(declared_heads())},  # one of this code's heads, as a newer code would move it
            )
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return {row[0] for row in rows}
    finally:
        await engine.dispose()


def test_a_database_newer_than_the_code_is_refused_unchanged(mt: MT, db_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url = make_url(db_url)
    if url.drivername.startswith("postgresql"):
        url = url.set(password="pw-secret")  # the server trusts; the message must not show it
        monkeypatch.setenv("MT_DB__URL", url.render_as_string(hide_password=False))
    mt.json("data", "list")  # creates the database at this code's newest schema
    stamped = asyncio.run(_stamp_future(db_url))
    for args in (("data", "list"), ("init",), ("strategy", "list")):
        result = mt(*args)
        assert result.exit_code == 2, result.stderr
        assert result.stderr.splitlines()[-1] == (
            f"mt: error: the database {url.render_as_string(hide_password=True)} has schema revision"
            " zz_future, newer than MasterTrade 0.1.0 knows: upgrade MasterTrade to open it (this"
            " version left it unchanged)"
        )
        assert "pw-secret" not in result.stderr + result.stdout and "Traceback" not in result.stderr
    assert asyncio.run(_stamp_future(db_url)) == stamped and "zz_future" in stamped


async def test_processes_opening_a_new_database_at_once_upgrade_it_one_after_the_other(db_url: str) -> None:
    # A daemon starting beside a command (or a script's parallel commands): each used to create the
    # same tables, and all but one failed with a traceback.
    engines = [create_engine(db_url) for _ in range(4)]
    try:
        async with asyncio.timeout(60):  # without the lock, Postgres's concurrent DDL could wait forever
            await asyncio.gather(*(upgrade(engine) for engine in engines))
        async with engines[0].connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            stamped = {row[0] for row in rows}
    finally:
        await asyncio.gather(*(engine.dispose() for engine in engines))
    assert stamped == set(declared_heads())
