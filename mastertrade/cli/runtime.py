"""What commands share at run time: the settings, the database, and running a coroutine."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mastertrade.config import Settings
    from mastertrade.db.database import Database


def settings() -> Settings:
    from mastertrade.config import load_settings

    return load_settings()


def run[T](main: Callable[[], Awaitable[T]]) -> T:
    """Run an async command body to completion."""

    async def wrapper() -> T:
        return await main()

    return asyncio.run(wrapper())


async def open_db(config: Settings | None = None) -> Database:
    """The configured database, migrated to the newest schema."""
    from mastertrade.db.database import Database

    return await Database.open(config or settings())
