"""The ``s38_sell_shares`` migration adds ``orders.shares`` on SQLite and Postgres: the schema then matches
the models, and the orders stored before it have no shares (each is its strategy's, as before): a
strategy's position folds from them as it did."""

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

OLD = [
    "INSERT INTO trading_books (id, mode, quote, created_at) VALUES ('live', 'live', 'USDT',"
    " '2026-12-01 09:00:00+00')",
    "INSERT INTO orders (id, client_order_id, book, mode, symbol, side, type, role, amount, state, filled,"
    " cost, fee, fees, strategy_id, placed_ts, created_at, updated_at) VALUES (1, 'mt-old-1', 'live', 'live',"
    " 'BTC/USDT', 'buy', 'market', 'entry', 0.1, 'filled', 0.1, 4000.0, 4.0, '{\"USDT\": 4.0}', 'a', 0,"
    " '2026-12-01 09:00:00+00', '2026-12-01 09:00:00+00')",
    "INSERT INTO fills (order_id, book, symbol, side, amount, price, fee, fee_asset, fee_quote, trade_id, ts,"
    " created_at) VALUES (1, 'live', 'BTC/USDT', 'buy', 0.1, 40000.0, 4.0, 'USDT', 4.0, 't1', 0,"
    " '2026-12-01 09:00:00+00')",
]


async def test_the_upgrade_adds_the_shares_and_older_orders_fold_as_before(db_url: str) -> None:
    def store_old(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), "s34_unprotected")
        for statement in OLD:
            connection.execute(text(statement))

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [diff for diff in compare_metadata(context, metadata) if "'orders'" in str(diff)]

    engine = create_engine(db_url)  # on SQLite and on Postgres, upgraded as opening it does
    try:
        async with engine.begin() as connection:
            await connection.run_sync(store_old)
        await upgrade(engine)
        async with engine.connect() as connection:
            shares = (await connection.execute(text("SELECT shares FROM orders"))).scalar_one()
            diffs = await connection.run_sync(compare)
    finally:
        await engine.dispose()
    assert shares is None
    assert diffs == []
    from mastertrade.config import load_settings

    db = await Database.open(load_settings())
    try:
        ledger = await Journal(db).strategy_ledger("live", "a")
        [order] = await Journal(db).orders(book="live")
    finally:
        await db.close()
    assert ledger.held("BTC/USDT") == pytest.approx(0.1)
    assert order.shares is None
