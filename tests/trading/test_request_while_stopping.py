"""An order, a cancel or a strategy move that reaches the daemon as it stops is refused before its work
begins (``ctx.work``): the API says so, 503 ``daemon_not_running``, and the CLI prints that one line.
It answered 500 "internal error (ServiceStopping); see the daemon log", with a traceback there, which
left a trader who typed `mt trade buy` during `mt daemon stop` unsure whether the order existed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mastertrade.config import Settings
from mastertrade.errors import DaemonNotRunning
from tests.trading.conftest import TradingEngine, trading_settings

BTC = "BTC/USDT"
LIMIT = {"symbol": BTC, "side": "buy", "amount": 1, "type": "limit", "price": 95}


@pytest.fixture
def settings(mt_home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    # how a refused request is answered does not depend on the database: SQLite only
    monkeypatch.setenv("MT_DB__URL", f"sqlite+aiosqlite:///{mt_home}/data/test.db")
    return trading_settings()


@pytest.fixture
async def raw(raw: httpx.AsyncClient, trading: TradingEngine) -> httpx.AsyncClient:
    """The suite's plain API client, with a price to check orders against."""
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    return raw


async def test_an_order_and_a_cancel_as_the_daemon_stops_are_refused_as_such(
    trading: TradingEngine, raw: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    placed = await raw.post("/v1/orders", json=LIMIT)
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order"]["id"]
    before = (await raw.get("/v1/orders")).json()

    trading.ctx.stopping.set()
    for path, body, work in (
        ("/v1/orders", LIMIT, "manual order"),
        (f"/v1/orders/{order_id}/cancel", None, "cancel order"),
    ):
        answer = await raw.post(path, json=body)
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"] == {
            "code": "daemon_not_running",
            "message": f"the daemon is stopping: {work} not started (nothing was done); start it again "
            "and retry",
        }
    with pytest.raises(DaemonNotRunning, match=r"^the daemon is stopping: cancel order not started"):
        await trading.client().cancel_order(order_id)
    assert (await raw.get("/v1/orders")).json() == before  # nothing placed, nothing cancelled
    assert "Traceback" not in caplog.text and "failed" not in caplog.text
