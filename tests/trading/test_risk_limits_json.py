"""`mt risk status --json` and `GET /v1/risk` give each limit as configured: a count of positions is a
whole number (`5`), not `5.0` as when every limit was read as a float."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mastertrade.config import Settings
from tests.trading.conftest import trading_settings


@pytest.fixture
def settings(mt_home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    # How limits are written does not depend on the database: SQLite only.
    monkeypatch.setenv("MT_DB__URL", f"sqlite+aiosqlite:///{mt_home}/data/test.db")
    return trading_settings()


async def test_the_open_positions_limit_is_a_whole_number(raw: httpx.AsyncClient) -> None:
    answer = await raw.get("/v1/risk")
    assert answer.status_code == 200, answer.text
    text = answer.text
    limits = answer.json()["limits"]
    assert limits["max_open_positions"] == 5 and type(limits["max_open_positions"]) is int
    assert '"max_open_positions":5,' in text.replace(" ", "")
    assert type(limits["max_position"]) is float
