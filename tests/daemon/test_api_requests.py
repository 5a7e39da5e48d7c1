"""What the socket API does with requests that are too big or oddly shaped: a body over the limit is
a 413 JSON error (before it is read when its length is announced), a refused value is quoted but not
echoed whole, a body not sent as JSON is a 415 saying so, and a 405 names every method of the path."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from mastertrade.config import Settings
from mastertrade.engine.api.app import create_app
from mastertrade.engine.api.body_limit import MAX_BODY_BYTES
from mastertrade.locations import locations
from tests.daemon.conftest import Engine


@pytest.fixture
def settings(sqlite_settings: Settings) -> Settings:
    return sqlite_settings


def asgi(engine: Engine) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(engine.ctx)), base_url="http://mt")


def rule_with_padding(size: int) -> bytes:
    """A valid alert rule padded with JSON whitespace to ``size`` bytes (a rule's name holds at most
    128 characters, so the padding cannot be its name)."""
    head, tail = b'{"kind": "order_filled", "severity": "critical", "name": "padded"', b"}"
    return head + b" " * (size - len(head) - len(tail)) + tail


async def rules(http: httpx.AsyncClient) -> list[object]:
    answer = await http.get("/v1/alerts/rules")
    assert answer.status_code == 200, answer.text
    listed: list[object] = answer.json()
    return listed


async def test_a_body_announced_over_the_limit_is_refused_with_413_and_nothing_stored(engine: Engine) -> None:
    async with asgi(engine) as http:
        before = await rules(http)
        response = await http.post(
            "/v1/alerts/rules",
            content=rule_with_padding(MAX_BODY_BYTES + 1),
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 413
        assert response.json() == {
            "error": {
                "code": "payload_too_large",
                "message": f"the request body is larger than the API's limit of {MAX_BODY_BYTES:,} bytes",
            }
        }
        assert await rules(http) == before
        at_limit = await http.post(
            "/v1/alerts/rules",
            content=rule_with_padding(1000),
            headers={"content-type": "application/json"},
        )
        assert at_limit.status_code == 201, at_limit.text


async def test_a_chunked_body_is_refused_once_it_passes_the_limit(engine: Engine) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"kind": "order_filled", "name": "'
        for _ in range(64):  # 4 MiB in all, with no Content-Length
            yield b"x" * (64 * 1024)

    async with asgi(engine) as http:
        before = await rules(http)
        response = await http.post(
            "/v1/alerts/rules", content=chunks(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 413, response.text
        assert response.json()["error"]["code"] == "payload_too_large"
        assert await rules(http) == before


async def test_a_huge_body_on_the_real_socket_is_refused_without_holding_the_loop(served: Engine) -> None:
    """Through uvicorn on the Unix socket: a 64 MiB announced body is answered 413 at once (its bytes
    are never read), and the daemon answers the next request."""
    reader, writer = await asyncio.open_unix_connection(str(locations().socket_file))
    size = 64 * MAX_BODY_BYTES
    writer.write(
        b"POST /v1/alerts/rules HTTP/1.1\r\nHost: mt\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {size}\r\n\r\n".encode()
        + b'{"kind": "order_filled", "name": "'
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    writer.close()
    assert head.startswith(b"HTTP/1.1 413 "), head
    client = served.client()
    assert (await client.status()).pid == served.ctx.state.pid
    await client.aclose()


async def test_a_refused_value_is_quoted_in_part_not_echoed_whole(engine: Engine) -> None:
    async with asgi(engine) as http:
        response = await http.post(
            "/v1/alerts/rules",
            json={"kind": "price_cross", "symbol": "BTC/USDT", "level": "y" * 100_000},
        )
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert message.startswith("body field 'level': Input should be a valid number")
    assert '(got "' + "y" * 80 + '…" (100,000 characters))' in message  # JSON, as the client sent it
    assert len(message) < 300


async def test_a_refused_rule_field_is_quoted_in_part_with_its_length(engine: Engine) -> None:
    """A refusal raised by the engine (not by request validation) quotes a long value from the body in
    part: the window and the symbol of an alert rule."""
    async with asgi(engine) as http:
        before = await rules(http)
        window = await http.post(
            "/v1/alerts/rules",
            json={"kind": "pct_move", "symbol": "BTC/USDT", "pct": 5, "window": "w" * 100_000},
        )
        symbol = await http.post(
            "/v1/alerts/rules", json={"kind": "price_cross", "symbol": "s" * 100_000, "level": 1}
        )
        assert await rules(http) == before
    for answer, letter in ((window, "w"), (symbol, "s")):
        assert 400 <= answer.status_code < 500, answer.text
        text = answer.json()["error"]["message"]
        assert letter * 80 + "…" in text.lower() and "(100,000 characters)" in text, text[:300]
        assert letter * 81 not in text.lower()
        assert len(text) < 400


async def test_a_body_not_sent_as_json_is_a_415_naming_what_was_sent(engine: Engine) -> None:
    async with asgi(engine) as http:
        before = await rules(http)
        form = await http.post("/v1/alerts/rules", content=b'{"kind": "order_filled"}')
        typed = await http.post(
            "/v1/alerts/rules",
            content=b'{"kind": "order_filled"}',
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert await rules(http) == before
    assert form.status_code == typed.status_code == 415
    assert form.json()["error"] == {
        "code": "unsupported_media_type",
        "message": "the request body must be JSON sent with Content-Type: application/json "
        "(got no Content-Type)",
    }
    assert typed.json()["error"]["message"].endswith("(got application/x-www-form-urlencoded)")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("OPTIONS", "/v1/alerts/rules", "GET, HEAD, POST"),
        ("PUT", "/v1/goals", "GET, HEAD, POST"),
        ("DELETE", "/v1/orders", "GET, HEAD, POST"),
        ("GET", "/v1/daemon/stop", "POST"),
        ("POST", "/v1/alerts/rules/7", "DELETE"),
        ("GET", "/v1/orders/check", "POST"),  # not order "check": GET /v1/orders/{id} takes ids only
    ],
)
async def test_a_405_names_every_method_the_path_takes(
    engine: Engine, method: str, path: str, allowed: str
) -> None:
    async with asgi(engine) as http:
        response = await http.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.json()["error"]["code"] == "method_not_allowed"
