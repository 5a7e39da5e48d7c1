"""``DaemonBackend`` over a mock HTTP transport: endpoints it needs but the daemon may not serve yet,
and the order ticket's preview through the engine's own pre-trade check."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mastertrade import errors
from mastertrade.client import DaemonClient
from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.tui.backend import Unavailable
from mastertrade.tui.daemon_backend import DaemonBackend
from tests.tui.fakes import FakeBackend

Handler = Callable[[httpx.Request], httpx.Response]


def daemon(routes: dict[tuple[str, str], Any], paths: list[str]) -> tuple[DaemonBackend, list[str]]:
    """A backend whose daemon answers ``routes`` and lists ``paths`` in its OpenAPI document."""
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.url.path == "/openapi.json":
            return httpx.Response(200, json={"paths": {path: {} for path in paths}})
        answer = routes.get((request.method, request.url.path))
        if answer is None:
            return httpx.Response(404, json={"error": {"code": "not_found", "message": "no such route"}})
        return httpx.Response(200, json=answer(request) if callable(answer) else answer)

    client = DaemonClient(transport=httpx.MockTransport(handle))
    return DaemonBackend(client), seen


async def account_routes(**changes: Any) -> dict[tuple[str, str], Any]:
    """The fake daemon's account as JSON routes (its risk status with ``changes`` applied)."""
    fake = FakeBackend()
    fake.tripped.clear()
    risk = (await fake.risk_status()).model_copy(update=changes)
    return {
        ("GET", "/v1/balance"): (await fake.balance()).model_dump(mode="json"),
        ("GET", "/v1/positions"): [p.model_dump(mode="json") for p in await fake.positions()],
        ("GET", "/v1/orders"): [o.model_dump(mode="json") for o in await fake.orders(open_only=True)],
        ("GET", "/v1/risk"): risk.model_dump(mode="json"),
    }


async def test_missing_strategy_endpoints_raise_unavailable_naming_them() -> None:
    backend, _ = daemon({}, paths=["/v1/status"])
    with pytest.raises(Unavailable, match=r"GET /v1/strategies"):
        await backend.strategies()
    with pytest.raises(Unavailable, match=r"POST /v1/strategies/\{strategy_id\}/retire"):
        await backend.change_strategy("g-1", "retire")
    with pytest.raises(Unavailable, match=r"GET /v1/equity"):
        await backend.equity_history()


async def test_served_strategy_endpoints_are_read() -> None:
    rows = [{"id": "g-1", "name": "one", "stage": "paper", "sharpe": 1.5, "unknown_field": 3}]
    backend, seen = daemon(
        {
            ("GET", "/v1/strategies"): rows,
            ("POST", "/v1/strategies/g-1/activate"): {**rows[0], "stage": "active"},
        },
        paths=["/v1/strategies", "/v1/strategies/{strategy_id}/activate"],
    )
    assert [(s.id, s.stage, s.sharpe) for s in await backend.strategies()] == [("g-1", "paper", 1.5)]
    assert (await backend.change_strategy("g-1", "activate")).stage == "active"
    assert seen.count("GET /openapi.json") == 1  # asked once, remembered


async def test_an_absent_daemon_raises_daemon_not_running() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    backend = DaemonBackend(DaemonClient(transport=httpx.MockTransport(refuse)))
    with pytest.raises(errors.DaemonNotRunning):
        await backend.strategies()
    with pytest.raises(errors.DaemonNotRunning):
        await backend.balance()


async def test_the_preview_asks_the_daemon_when_it_can() -> None:
    decision = {
        "verdict": "resize",
        "symbol": "BTC/USDT",
        "side": "buy",
        "requested": 1.0,
        "amount": 0.03,
        "price": 64_000.0,
        "reason": "max_position",
        "findings": [],
        "value": 1_920.0,
        "fee": 1.92,
        "fee_rate": 0.001,
        "quote": "USDT",
        "mode": "paper",
    }
    bodies: list[dict[str, Any]] = []

    def check(request: httpx.Request) -> dict[str, Any]:
        bodies.append(json.loads(request.content))
        return decision

    backend, _ = daemon({("POST", "/v1/orders/check"): check}, paths=["/v1/orders/check"])
    order = OrderCreate(symbol="BTC/USDT", side="buy", amount=1.0)
    result = await backend.preview_order(order, last_price=64_000.0)
    assert result.verdict == "resize" and result.amount == 0.03
    assert bodies == [
        {
            "symbol": "BTC/USDT",
            "side": "buy",
            "amount": 1.0,
            "type": "market",
            "live": False,
            "allow_resize": False,
        }
    ]


async def test_the_local_preview_applies_the_engines_rules() -> None:
    backend, _ = daemon(await account_routes(), paths=[])
    small = await backend.preview_order(
        OrderCreate(symbol="SOL/USDT", side="buy", amount=1.0), last_price=172.0
    )
    assert small.verdict == "approve" and small.amount == 1.0

    # 20% of ~10,016 equity is ~2,003: 1 BTC at 64,000 is resized to fit what is left of that
    big = await backend.preview_order(
        OrderCreate(symbol="BTC/USDT", side="buy", amount=1.0), last_price=64_000.0
    )
    assert big.verdict == "resize"
    assert 0 < big.amount * 64_000.0 <= 0.2 * 10_016.4 - 1_296.4 + 1e-6
    assert any(f.code == "max_position" for f in big.findings)

    unheld = await backend.preview_order(
        OrderCreate(symbol="ETH/USDT", side="sell", amount=1.0), last_price=3_400.0
    )
    assert unheld.verdict == "reject" and unheld.findings[0].code == "no_position"

    limit = await backend.preview_order(
        OrderCreate(symbol="SOL/USDT", side="buy", amount=1.0, type="limit", price=150.0), last_price=None
    )
    assert limit.verdict == "approve" and limit.price == 150.0

    unpriced = await backend.preview_order(
        OrderCreate(symbol="XRP/USDT", side="buy", amount=1.0), last_price=None
    )
    assert unpriced.verdict == "reject" and "no price" in unpriced.reason


async def test_the_local_preview_refuses_entries_while_halted() -> None:
    backend, _ = daemon(await account_routes(halted=True, halt_reason="by hand"), paths=[])
    result = await backend.preview_order(
        OrderCreate(symbol="SOL/USDT", side="buy", amount=1.0), last_price=172.0
    )
    assert result.verdict == "reject"
    assert result.findings[0].code == "kill_switch" and "by hand" in result.reason
    exit_ = await backend.preview_order(
        OrderCreate(symbol="BTC/USDT", side="sell", amount=0.01), last_price=1.0
    )
    assert exit_.verdict == "approve"  # exits always go through


async def test_the_strategy_stores_own_json_is_understood() -> None:
    stored = {
        "id": "a1b2",
        "name": "rsi-a1b2",
        "state": "paper",
        "symbol": "BTC/USDT",
        "timeframe": "1h",
        "out_of_sample": {"sharpe": 1.3, "return_pct": 12.5, "max_drawdown_pct": 8.0, "trades": 40},
        "deflated_sharpe": 0.9,
        "genome": {"entry": {}},
        "history": [{"from": "passed", "to": "paper", "reason": "top 5", "at": "2026-11-24T00:00:00Z"}],
    }
    backend, _ = daemon(
        {("GET", "/v1/strategies"): [stored], ("GET", "/v1/strategies/a1b2"): stored},
        paths=["/v1/strategies", "/v1/strategies/{strategy_id}"],
    )
    [row] = await backend.strategies()
    assert (row.stage, row.sharpe, row.return_pct, row.trades, row.deflated_sharpe) == (
        "paper",
        1.3,
        12.5,
        40,
        0.9,
    )
    detail = await backend.strategy("a1b2")
    assert [(c.stage_from, c.stage_to) for c in detail.history] == [("passed", "paper")]
