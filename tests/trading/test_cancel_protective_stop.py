"""Cancelling the stop that protects an open position is refused (409 ``stop_protects_position``, naming
the position) unless the caller says ``unprotect``; the API, the client and ``mt orders cancel`` agree.
A take-profit, a stop whose entry has not filled, and the same stop once asked for explicitly cancel."""

from __future__ import annotations

import httpx
import pytest

from mastertrade import errors
from mastertrade.engine.api.app import create_app
from mastertrade.engine.api.schemas_trading import OrderCreate
from tests.conftest import MT
from tests.trading.conftest import ThreadedTrading, TradingEngine
from tests.trading.test_cli import push, wait_for

BTC = "BTC/USDT"


async def test_the_stop_of_an_open_position_is_cancelled_only_when_asked_to_unprotect(
    trading: TradingEngine,
) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    async with trading.client() as client:
        placed = await client.place_order(
            OrderCreate(symbol=BTC, side="buy", amount=10, stop_loss=0.05, take_profit=0.2)
        )
        # Before the entry fills, its stop protects nothing: it goes with the entry's cancel as before.
        waiting = await client.place_order(
            OrderCreate(symbol=BTC, side="buy", amount=1, type="limit", price=50, stop_loss=0.05)
        )
        await trading.bar(BTC, 1, 101, 103, 100, 102)
        exits = {o.role: o for o in await client.orders(open_only=True) if o.parent_id == placed.order.id}
        stop, take = exits["stop_loss"], exits["take_profit"]
        assert stop.state == "open" and stop.side == "sell"

        with pytest.raises(errors.StopProtectsPosition) as refused:
            await client.cancel_order(stop.id)
        message = str(refused.value)
        assert f"order {stop.id} is the stop-loss" in message
        assert (
            "the 10 BTC/USDT position of the account" in message
            and f"entry order {placed.order.id}" in message
        )
        assert f"mt orders cancel {stop.id} --unprotect" in message
        assert (await client.order(stop.id)).state == "open"  # untouched

        app = create_app(trading.ctx)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mt") as http:
            response = await http.post(f"/v1/orders/{stop.id}/cancel")
            assert response.status_code == 409
            assert response.json()["error"]["code"] == "stop_protects_position"
            wrong = await http.post(f"/v1/orders/{stop.id}/cancel", json={"unprotect": "maybe"})
            assert wrong.status_code == 422 and "unprotect" in wrong.text

        assert (await client.cancel_order(take.id)).state == "cancelled"  # the stop still guards it
        cancelled = await client.cancel_order(stop.id, unprotect=True)
        assert cancelled.state == "cancelled"
        [position] = await client.positions()
        assert position.amount == 10  # left open, now without a stop, as asked

        assert (await client.cancel_order(waiting.order.id)).state == "cancelled"


def test_mt_orders_cancel_names_the_position_and_takes_unprotect(mt: MT, daemon: ThreadedTrading) -> None:
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    placed = mt.json("trade", "buy", BTC, "10", "--stop-loss", "0.05", "--wait", "0")
    push(daemon, 1, 101.0)
    wait_for(mt, lambda data: len(data) == 1, "positions")
    [stop] = [o for o in mt.json("orders", "--open") if o["parent_id"] == placed["order"]["id"]]

    refused = mt("orders", "cancel", str(stop["id"]))
    assert refused.exit_code == 1 and refused.stdout == ""
    assert refused.stderr.startswith(
        f"mt: error: order {stop['id']} is the stop-loss protecting the 10 BTC/USDT"
    )
    assert "--unprotect" in refused.stderr
    assert mt.json("orders", "show", str(stop["id"]))["state"] == "open"
    assert "--unprotect" in mt("orders", "cancel", "--help").stdout

    cancelled = mt.json("orders", "cancel", str(stop["id"]), "--unprotect")
    assert cancelled["state"] == "cancelled"


async def test_the_stop_of_an_entry_not_yet_filled_cancels_while_the_book_holds_the_symbol(
    trading: TradingEngine,
) -> None:
    """The waiting stop of a resting bracketed buy protects nothing yet, even when the account already
    holds the symbol from another order: it was refused as "the stop-loss protecting the 10 BTC/USDT
    position", a position that was not its own."""
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    async with trading.client() as client:
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=10))
        await trading.bar(BTC, 1, 101, 103, 100, 102)
        assert [p.amount for p in await client.positions()] == [10]
        waiting = await client.place_order(
            OrderCreate(symbol=BTC, side="buy", amount=1, type="limit", price=50, stop_loss=0.05)
        )
        [stop] = [o for o in await client.orders() if o.parent_id == waiting.order.id]
        assert stop.role == "stop_loss" and stop.state == "intent"

        cancelled = await client.cancel_order(stop.id)
        assert cancelled.state == "cancelled"
        assert (await client.order(waiting.order.id)).state == "open"  # the entry still rests
