"""Fixtures shared by the whole suite.

Every test runs in its own MasterTrade home (``MT_HOME`` under tmp_path) with the user's ``MT_*``
variables cleared, so no test reads or writes the real config, database or socket. Storage tests take
the ``db_url`` fixture, which runs them on SQLite always and on Postgres when ``MT_TEST_POSTGRES_URL``
is set (each test gets a fresh database, dropped afterwards).
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

POSTGRES_URL = os.environ.get("MT_TEST_POSTGRES_URL")
_KEEP_ENV = {"MT_TEST_POSTGRES_URL"}
# numba's on-disk cache survives between test runs and workers, so kernels compile once.
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(__file__).parent.parent / ".pytest_cache" / "numba"))


@pytest.fixture(autouse=True)
def mt_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("MT_") and name not in _KEEP_ENV:
            monkeypatch.delenv(name)
    home = tmp_path / "mt-home"
    monkeypatch.setenv("MT_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def _fresh_rate_gates() -> Iterator[None]:
    """Each test starts with no rate-limit wait held for any exchange address: the process keeps one per
    address (``ccxt_venue.rate_gate``), and a later test's fake may listen on a port an earlier one had."""
    yield
    import sys

    venues = sys.modules.get("mastertrade.engine.market.ccxt_venue")
    if venues is not None:
        venues._GATES.clear()


def _admin_dsn(url: str) -> tuple[str, str]:
    """asyncpg DSN of the server's admin database, and the URL without its database name."""
    base, _, _ = url.rpartition("/")
    return base.replace("postgresql+asyncpg://", "postgresql://") + "/postgres", base


async def _create_pg_database(url: str) -> str:
    import asyncpg

    admin, base = _admin_dsn(url)
    name = f"mt_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"{base}/{name}"


async def _drop_pg_database(url: str) -> None:
    import asyncpg

    admin, _ = _admin_dsn(url)
    name = url.rpartition("/")[2]
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgres",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(not POSTGRES_URL, reason="MT_TEST_POSTGRES_URL is not set"),
            ],
        ),
    ]
)
def db_url(request: pytest.FixtureRequest, mt_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, empty database URL (also exported as MT_DB__URL for CLI tests)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{mt_home}/data/test.db"
        monkeypatch.setenv("MT_DB__URL", url)
        yield url
        return
    assert POSTGRES_URL
    url = asyncio.run(_create_pg_database(POSTGRES_URL))
    monkeypatch.setenv("MT_DB__URL", url)
    try:
        yield url
    finally:
        asyncio.run(_drop_pg_database(url))


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[object]:
    """An open, migrated Database on ``db_url``."""
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database

    db = await Database.open(load_settings())
    try:
        yield db
    finally:
        await db.close()


class MT:
    """Runs ``mt`` in-process with Typer's CliRunner: ``mt("data", "list", "--json")``."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None) -> Result:
        from mastertrade.cli.app import app

        return self.runner.invoke(app, list(args), input=input)

    def json(self, *args: str) -> Any:
        """Run a command with --json, require exit 0, and return the parsed document."""
        result = self(*args, "--json")
        assert result.exit_code == 0, f"exit {result.exit_code}: {result.stderr}{result.stdout}"
        return json.loads(result.stdout)


@pytest.fixture
def mt() -> MT:
    return MT()
