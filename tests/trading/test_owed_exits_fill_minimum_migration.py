"""The ``s39_owed_exits`` and ``s39_fill_minimum`` migrations add the ``owed_exits`` table and
``fills.minimum`` on SQLite and Postgres: the schema then matches the models, nothing is owed, and the fills
stored before have no minimum: a strategy's position left under one lot step by them folds as it did (an
open position, its round trip not closed)."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from mastertrade.db.database import Database, create_engine
from mastertrade.db.migrate import alembic_config, upgrade
from mastertrade.db.models import metadata
from mastertrade.engine.execution.journal import Journal

AT = "'2026-12-01 09:00:00+00'"
OLD = [
    f"INSERT INTO trading_books (id, mode, quote, created_at) VALUES ('live', 'live', 'USDT', {AT})",
    "INSERT INTO orders (id, client_order_id, book, mode, symbol, side, type, role, amount, state, filled,"
    " cost, fee, strategy_id, placed_ts, created_at, updated_at) VALUES (1, 'mt-old-1', 'live', 'live',"
    f" 'BTC/USDT', 'buy', 'market', 'entry', 0.125, 'filled', 0.125, 5000.0, 5.0, 'a', 0, {AT}, {AT})",
    "INSERT INTO orders (id, client_order_id, book, mode, symbol, side, type, role, amount, state, filled,"
    " cost, fee, strategy_id, placed_ts, created_at, updated_at) VALUES (2, 'mt-old-2', 'live', 'live',"
    f" 'BTC/USDT', 'sell', 'market', 'exit', 0.12487, 'filled', 0.12487, 4994.8, 5.0, 'a', 1, {AT}, {AT})",
    "INSERT INTO fills (order_id, book, symbol, side, amount, price, fee, fee_asset, trade_id, ts,"
    f" created_at) VALUES (1, 'live', 'BTC/USDT', 'buy', 0.125, 40000.0, 0.000125, 'BTC', 't1', 0, {AT})",
    "INSERT INTO fills (order_id, book, symbol, side, amount, price, fee, fee_asset, trade_id, ts,"
    f" created_at) VALUES (2, 'live', 'BTC/USDT', 'sell', 0.12487, 40000.0, 5.0, 'USDT', 't2', 1, {AT})",
]


async def test_the_upgrade_adds_the_owed_exits_and_the_fills_minimum(db_url: str) -> None:
    def store_old(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), "s39_forecast_trials")
        for statement in OLD:
            connection.execute(text(statement))

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [
            diff
            for diff in compare_metadata(context, metadata)
            if "'fills'" in str(diff) or "owed_exits" in str(diff)
        ]

    engine = create_engine(db_url)  # on SQLite and on Postgres, upgraded as opening it does
    try:
        async with engine.begin() as connection:
            await connection.run_sync(store_old)
        await upgrade(engine)
        async with engine.connect() as connection:
            minimums = (await connection.execute(text("SELECT minimum FROM fills"))).scalars().all()
            owed = (await connection.execute(text("SELECT COUNT(*) FROM owed_exits"))).scalar_one()
            diffs = await connection.run_sync(compare)
    finally:
        await engine.dispose()
    assert minimums == [None, None] and owed == 0
    assert diffs == []
    from mastertrade.config import load_settings

    db = await Database.open(load_settings())
    try:
        ledger = await Journal(db).strategy_ledger("live", "a")
    finally:
        await db.close()
    assert ledger.held("BTC/USDT") == pytest.approx(0.000005)
    assert ledger.open_amount("BTC/USDT") == pytest.approx(0.000005) and ledger.round_trips == []
