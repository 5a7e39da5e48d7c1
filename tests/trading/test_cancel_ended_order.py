"""`mt orders cancel ID` of an order that has already ended says how it ended, in one line: exit 0 when
it will not trade (already cancelled or rejected: what the cancel was for holds, like `mt risk halt` of
a halted account), exit 1 when it filled (too late: the trade happened). It was exit 2, "bad input",
though the id named a real order that may have been open a moment before. The API answers such a cancel
409 `operation_failed` (it was 400, as if the request were malformed)."""

from __future__ import annotations

import httpx

from mastertrade.engine.api.schemas_trading import OrderCreate
from tests.conftest import MT
from tests.trading.conftest import ThreadedTrading, TradingEngine
from tests.trading.test_cli import BTC, push, wait_for


def test_cancelling_a_cancelled_order_says_so_and_exits_0(mt: MT, daemon: ThreadedTrading) -> None:
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    placed = mt.json("trade", "buy", BTC, "10", "--type", "limit", "--price", "90")["order"]
    assert mt("orders", "cancel", str(placed["id"])).exit_code == 0
    again = mt("orders", "cancel", str(placed["id"]))
    assert again.exit_code == 0, again.stderr
    assert again.stdout == ""
    assert again.stderr == (
        f"order {placed['id']} (buy 10 BTC/USDT limit) is already cancelled (cancelled by hand): "
        "nothing to cancel\n"
    )
    as_json = mt.json("orders", "cancel", placed["client_order_id"])
    assert as_json["state"] == "cancelled" and as_json["id"] == placed["id"]


def test_cancelling_a_filled_order_says_it_filled_and_exits_1(mt: MT, daemon: ThreadedTrading) -> None:
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    placed = mt.json("trade", "buy", BTC, "10", "--wait", "0")["order"]
    push(daemon, 1, 100.0)
    wait_for(mt, lambda data: data["state"] == "filled", "orders", "show", str(placed["id"]))
    late = mt("orders", "cancel", str(placed["id"]))
    assert late.exit_code == 1, late.stderr
    assert late.stderr == (
        f"mt: error: order {placed['id']} (buy 10 BTC/USDT market) is already filled (10 at 100): "
        "too late to cancel\n"
    )


async def test_the_api_answers_409_naming_the_end(trading: TradingEngine) -> None:
    from mastertrade.engine.api.app import create_app

    await trading.bar(BTC, 0, 100, 101, 99, 100)
    async with trading.client() as client:
        placed = await client.place_order(
            OrderCreate(symbol=BTC, side="buy", amount=10, type="limit", price=90)
        )
        await client.cancel_order(placed.order.id)
    transport = httpx.ASGITransport(app=create_app(trading.ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://mt") as raw:
        answer = await raw.post(f"/v1/orders/{placed.order.id}/cancel")
    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error["code"] == "operation_failed"
    assert "is already cancelled (cancelled by hand): nothing to cancel" in error["message"]
