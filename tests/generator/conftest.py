"""Candles and small problems for the generator tests (simulated market, fixed end time)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pandas as pd
import pytest

from mastertrade.engine.generator.evaluation import Problem
from mastertrade.engine.market.sim import simulate

END = 1_735_689_600_000  # 2025-01-01T00:00:00Z
SYMBOL = "BTC/USDT"


def sim_frame(bars: int, seed: int = 11) -> pd.DataFrame:
    return simulate(SYMBOL, "1h", bars, seed, end=END)


@pytest.fixture(scope="session")
def frame() -> pd.DataFrame:
    """About four months of simulated 1h candles: four out-of-sample windows of about 13 days."""
    return sim_frame(3000)


@pytest.fixture(scope="session")
def problem(frame: pd.DataFrame) -> Problem:
    return Problem(frame, folds=4)


@pytest.fixture
def lenient(monkeypatch: pytest.MonkeyPatch) -> None:
    """The [generator] filter of ``helpers.LENIENT``, through the environment (for `mt` commands)."""
    from tests.generator.helpers import LENIENT

    for key, value in LENIENT.items():
        monkeypatch.setenv(f"MT_GENERATOR__{key.upper()}", str(value))


@pytest.fixture
async def sqlite_db(mt_home: Any, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    """An open, migrated SQLite database (tests whose storage is covered on Postgres elsewhere)."""
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database

    monkeypatch.setenv("MT_DB__URL", f"sqlite+aiosqlite:///{mt_home}/data/test.db")
    db = await Database.open(load_settings())
    try:
        yield db
    finally:
        await db.close()
