"""Engines opening a new SQLite file at the same moment all get it in WAL mode. Switching a file to WAL
needs it to itself, and SQLite answers a second switcher "database is locked" at once rather than wait
on the busy timeout (measured with the stdlib: 43 of 200 tries of four threads failed), so a daemon
starting beside a command on a new database could fail with a traceback."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from mastertrade.db.database import create_engine


async def test_engines_opening_a_new_file_at_once_all_get_wal(tmp_path: Path) -> None:
    for trial in range(30):
        url = f"sqlite+aiosqlite:///{tmp_path / f'race-{trial}.db'}"
        engines = [create_engine(url) for _ in range(4)]
        try:

            async def mode(engine: AsyncEngine) -> str:
                async with engine.connect() as connection:
                    return str((await connection.execute(text("PRAGMA journal_mode"))).scalar())

            modes = await asyncio.gather(*(mode(engine) for engine in engines))
        finally:
            await asyncio.gather(*(engine.dispose() for engine in engines))
        assert modes == ["wal"] * 4, (trial, modes)
