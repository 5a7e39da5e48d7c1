"""Opening a database whose schema is current does not import alembic (about 0.7 s of every command);
the heads it compares with are alembic's own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mastertrade.db.migrate import head_revisions
from mastertrade.db.revisions import declared_heads

SCRIPT = """
import asyncio, sys
from mastertrade.config import load_settings
from mastertrade.db.database import Database

async def main():
    db = await Database.open(load_settings())
    await db.close()

asyncio.run(main())
print("alembic" in sys.modules)
"""


def test_declared_heads_are_alembics_heads() -> None:
    assert declared_heads() == head_revisions() and declared_heads()


def test_a_current_schema_is_checked_without_alembic(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MT_")}
    env["MT_HOME"] = str(tmp_path / "home")

    def open_once() -> str:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT], check=True, capture_output=True, text=True, env=env
        )
        return done.stdout.strip().splitlines()[-1]

    assert open_once() == "True"  # a new database: migrated through alembic
    assert open_once() == "False"  # current: checked with plain SQL
