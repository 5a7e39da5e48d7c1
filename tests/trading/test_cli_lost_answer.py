"""`mt trade` when the daemon's answer is lost on the way back (the connection breaks after the order
went out: the daemon stopped or crashed while placing it), or the daemon goes while the command follows
the order: the order is looked up by its client order id, never left unnamed for the trader to place a
second time."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.conftest import MT
from tests.trading.conftest import ThreadedTrading
from tests.trading.test_cli import BTC, push, wait_for

Fault = Callable[[httpx.Request], bool]


def break_connection(monkeypatch: pytest.MonkeyPatch, *, after: Fault, before: Fault | None = None) -> None:
    """Requests ``after`` matches reach the daemon and lose their answer; those ``before`` matches find
    no daemon (the CLI's Unix-socket transport only)."""
    real = httpx.AsyncHTTPTransport.handle_async_request

    async def handle(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        if before is not None and before(request):
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        response = await real(self, request)
        if after(request):
            await response.aread()
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        return response

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", handle)


def placing(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path == "/v1/orders"


def following(request: httpx.Request) -> bool:
    return request.method == "GET" and request.url.path.startswith("/v1/orders/")


def test_an_answer_lost_to_a_broken_connection_is_looked_up_not_placed_again(
    mt: MT, daemon: ThreadedTrading, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It said "the connection to the daemon broke: ..." (exit 1) about an order the daemon had placed.
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    with monkeypatch.context() as patch:
        break_connection(patch, after=placing)
        result = mt(
            "trade", "buy", BTC, "2", "--type", "limit", "--price", "50", "--client-order-id", "lost-1"
        )
    assert result.exit_code == 0, result.stderr
    [order] = mt.json("orders")
    assert order["client_order_id"] == "lost-1" and order["state"] == "open"
    assert f"order {order['id']} buy 2 BTC/USDT limit (paper): open" in result.stdout


def test_a_daemon_gone_before_its_answer_leaves_the_client_order_id_to_find_it(
    mt: MT, daemon: ThreadedTrading, monkeypatch: pytest.MonkeyPatch
) -> None:
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    with monkeypatch.context() as patch:
        break_connection(patch, after=placing, before=following)
        result = mt(
            "trade", "buy", BTC, "2", "--type", "limit", "--price", "50", "--client-order-id", "lost-2"
        )
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("mt: error: the connection to the daemon broke: Server disconnected")
    assert "order lost-2 may have been placed" in result.stderr
    assert "`mt orders show lost-2`" in result.stderr and "--client-order-id lost-2" in result.stderr
    assert result.stderr.count("\n") == 1
    assert [o["client_order_id"] for o in mt.json("orders")] == ["lost-2"]  # it had been placed


def test_a_daemon_gone_while_the_order_is_followed_names_the_order(
    mt: MT, daemon: ThreadedTrading, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It said only "the daemon is not running" about a market order it had placed and was following.
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    with monkeypatch.context() as patch:
        break_connection(patch, after=lambda request: False, before=following)
        result = mt("trade", "buy", BTC, "2", "--wait", "5")
    assert result.exit_code == 1 and result.stdout == ""
    [order] = mt.json("orders")
    assert (
        f"mt: error: order {order['id']} ({order['client_order_id']}) was placed (open when last seen), "
        "then the daemon stopped answering"
    ) in result.stderr
    assert f"`mt orders show {order['id']}`" in result.stderr and "do not place it again" in result.stderr
