"""The 0004 migration creates exactly the trading tables the models describe, on SQLite and Postgres."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from mastertrade.db.models import metadata

TRADING_TABLES = {
    "trading_books",
    "ledger_entries",
    "orders",
    "fills",
    "equity_points",
    "goals",
    "breaker_states",
    "risk_audit",
    "trading_snapshots",
}


def _table_of(diff: Any) -> str | None:
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:]:
        name = getattr(part, "name", None) if not isinstance(part, str) else None
        table = getattr(part, "table", None)
        if table is not None and getattr(table, "name", None):
            return str(table.name)
        if name in TRADING_TABLES:
            return str(name)
    if isinstance(item, tuple) and len(item) > 2 and isinstance(item[2], str):
        return item[2]
    return None


async def test_migration_matches_the_models(database: Any) -> None:
    def compare(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    async with database.engine.connect() as connection:
        diffs = await connection.run_sync(compare)
    mine = [diff for diff in diffs if _table_of(diff) in TRADING_TABLES]
    assert mine == []
