"""A request body's number is a JSON number, and its switch a JSON boolean: `"amount": true` was taken as
an amount of 1 (and `"amount": "0.5"`, `"live": 1`, a goal's `"target": true` were coerced the same way),
where `mt trade buy` refuses `true`. Every one is now 422 `invalid_request` naming the field and what was
sent, nothing placed or stored; a whole number (`"amount": 1`) is still a number."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from mastertrade.config import Settings
from tests.trading.conftest import TradingEngine, trading_settings

BTC = "BTC/USDT"
LIMIT = {"symbol": BTC, "side": "buy", "amount": 1, "type": "limit", "price": 95}

NOT_NUMBERS: list[tuple[Any, str]] = [
    (True, "true"),
    (False, "false"),
    ("1", '"1"'),
    ("0.05", '"0.05"'),
    ("inf", '"inf"'),
    ("nan", '"nan"'),
]


@pytest.fixture
def settings(mt_home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    # What the schema refuses does not depend on the database: SQLite only.
    monkeypatch.setenv("MT_DB__URL", f"sqlite+aiosqlite:///{mt_home}/data/test.db")
    return trading_settings()


@pytest.fixture
async def raw(raw: httpx.AsyncClient, trading: TradingEngine) -> httpx.AsyncClient:
    """The suite's plain API client, with a price to check orders against."""
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    return raw


def refused(answer: httpx.Response, field: str, shown: str, what: str = "a valid number") -> None:
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == {
        "code": "invalid_request",
        "message": f"body field {field!r}: Input should be {what} (got {shown})",
    }


@pytest.mark.parametrize(("value", "shown"), NOT_NUMBERS)
@pytest.mark.parametrize("field", ["amount", "price", "stop_loss", "take_profit"])
@pytest.mark.parametrize("route", ["/v1/orders", "/v1/orders/check"])
async def test_an_order_number_that_is_not_a_json_number_is_422_naming_it(
    raw: httpx.AsyncClient, route: str, field: str, value: Any, shown: str
) -> None:
    refused(await raw.post(route, json={**LIMIT, field: value}), field, shown)
    assert (await raw.get("/v1/orders")).json() == []


async def test_a_missing_amount_sent_as_null_is_422(raw: httpx.AsyncClient) -> None:
    refused(await raw.post("/v1/orders", json={**LIMIT, "amount": None}), "amount", "null")


@pytest.mark.parametrize(("value", "shown"), [(1, "1"), ("true", '"true"'), ("yes", '"yes"')])
@pytest.mark.parametrize("field", ["live", "allow_resize"])
async def test_an_order_switch_that_is_not_a_json_boolean_is_422(
    raw: httpx.AsyncClient, field: str, value: Any, shown: str
) -> None:
    answer = await raw.post("/v1/orders", json={**LIMIT, field: value})
    refused(answer, field, shown, "a valid boolean")
    assert (await raw.get("/v1/orders")).json() == []


async def test_whole_numbers_are_numbers(raw: httpx.AsyncClient) -> None:
    checked = await raw.post("/v1/orders/check", json={"symbol": BTC, "side": "buy", "amount": 1})
    assert checked.status_code == 200, checked.text
    assert checked.json()["requested"] == 1.0
    placed = await raw.post("/v1/orders", json=LIMIT)
    assert placed.status_code == 201, placed.text
    assert placed.json()["order"]["amount"] == 1.0 and placed.json()["order"]["price"] == 95.0
    goal = await raw.post("/v1/goals", json={"name": "g", "kind": "profit", "target": 500})
    assert goal.status_code == 201, goal.text
    assert goal.json()["target"] == 500.0


@pytest.mark.parametrize(("value", "shown"), NOT_NUMBERS)
async def test_a_goal_target_that_is_not_a_json_number_is_422(
    raw: httpx.AsyncClient, value: Any, shown: str
) -> None:
    before = (await raw.get("/v1/goals")).json()["goals"]
    answer = await raw.post("/v1/goals", json={"name": "g", "kind": "profit", "target": value})
    refused(answer, "target", shown)
    assert (await raw.get("/v1/goals")).json()["goals"] == before


@pytest.mark.parametrize(("value", "shown"), NOT_NUMBERS)
@pytest.mark.parametrize(
    ("field", "rule"),
    [
        ("level", {"kind": "price_cross", "symbol": BTC, "level": 120, "direction": "above"}),
        ("pct", {"kind": "pct_move", "symbol": BTC, "pct": 5, "window": "1h"}),
    ],
)
async def test_an_alert_rule_number_that_is_not_a_json_number_is_422(
    raw: httpx.AsyncClient, field: str, rule: dict[str, Any], value: Any, shown: str
) -> None:
    before = (await raw.get("/v1/alerts/rules")).json()
    refused(await raw.post("/v1/alerts/rules", json={**rule, field: value}), field, shown)
    assert (await raw.get("/v1/alerts/rules")).json() == before
    added = await raw.post("/v1/alerts/rules", json=rule)
    assert added.status_code == 201, added.text
