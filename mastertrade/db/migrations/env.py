"""Alembic environment. Migrations normally run through ``mastertrade.db.migrate`` on the caller's
connection; run standalone (``alembic -c alembic.ini revision --autogenerate``) it uses the configured
database URL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from mastertrade.db.models import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_standalone() -> None:
    from mastertrade.config import load_settings
    from mastertrade.db.database import create_engine

    engine = create_engine(load_settings().db_url())
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_standalone())
