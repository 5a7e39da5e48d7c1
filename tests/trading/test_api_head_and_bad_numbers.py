"""The API answers HEAD wherever it answers GET (headers, no body; HEAD was 405), and refuses every
non-finite number in a request body the same way: 422 `invalid_request` naming the field and the value
(an infinite amount got 400 from the handler while NaN got 422 from the schema)."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.trading.conftest import TradingEngine

BTC = "BTC/USDT"


@pytest.fixture
async def raw(raw: httpx.AsyncClient, trading: TradingEngine) -> httpx.AsyncClient:
    """The suite's plain API client, with a price to check orders against."""
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    return raw


@pytest.mark.parametrize("path", ["/v1/status", "/v1/health", "/v1/balance", "/v1/positions", "/v1/orders"])
async def test_head_answers_where_get_does(raw: httpx.AsyncClient, path: str) -> None:
    got = await raw.get(path)
    head = await raw.head(path)
    assert got.status_code == 200
    assert head.status_code == 200, head.text
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]


async def test_head_of_a_missing_order_is_404_and_methods_name_head(raw: httpx.AsyncClient) -> None:
    assert (await raw.head("/v1/orders/9999")).status_code == 404
    refused = await raw.post("/v1/balance")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, HEAD"
    refused = await raw.head("/v1/orders/check")  # POST only: HEAD is not GET's twin there
    assert refused.status_code == 405


async def test_head_stays_out_of_the_openapi_document(raw: httpx.AsyncClient) -> None:
    paths = (await raw.get("/openapi.json")).json()["paths"]
    assert not any("head" in operations for operations in paths.values())
    assert "get" in paths["/v1/balance"]


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("amount", "Infinity", "Infinity"),
        ("amount", "-Infinity", "-Infinity"),
        ("amount", "NaN", "NaN"),
        ("amount", "1e400", "Infinity"),  # a string ("inf") is no number at all: test_api_strict_numbers
        ("price", "Infinity", "Infinity"),
        ("price", "NaN", "NaN"),
        ("take_profit", "NaN", "NaN"),
    ],
)
@pytest.mark.parametrize("route", ["/v1/orders", "/v1/orders/check"])
async def test_every_non_finite_number_is_422_naming_it(
    raw: httpx.AsyncClient, route: str, field: str, value: str, shown: str
) -> None:
    body = {"symbol": BTC, "side": "buy", "amount": 1, "type": "limit", "price": 95}
    text = json.dumps(body).replace(f'"{field}": {json.dumps(body.get(field))}', f'"{field}": {value}')
    if field not in body:
        text = text[:-1] + f', "{field}": {value}}}'
    answer = await raw.post(route, content=text, headers={"content-type": "application/json"})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"] == f"body field {field!r}: Input should be a finite number (got {shown})"
    assert (await raw.get("/v1/orders")).json() == []


async def test_a_goal_target_that_is_not_finite_is_422(raw: httpx.AsyncClient) -> None:
    text = '{"name": "g", "kind": "profit", "target": Infinity}'
    answer = await raw.post("/v1/goals", content=text, headers={"content-type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert "'target': Input should be a finite number (got Infinity)" in answer.json()["error"]["message"]
