"""The kill switch stops every new entry, including the buy orders already resting: `mt risk halt`
cancels the account's open buys (a limit buy placed before the halt filled after it), keeps its sells
(exits stay allowed), and says which it cancelled."""

from __future__ import annotations

from mastertrade.engine.api.schemas_trading import OrderCreate
from tests.conftest import MT
from tests.trading.conftest import ThreadedTrading, TradingEngine
from tests.trading.test_cli import BTC, push, wait_for


async def test_a_halt_cancels_the_resting_buys_and_keeps_the_sells(trading: TradingEngine) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    async with trading.client() as client:
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=10, type="market"))
        await trading.bar(BTC, 1, 100, 101, 99, 100)
        limit = await client.place_order(
            OrderCreate(symbol=BTC, side="buy", amount=10, type="limit", price=95.0)
        )
        stop = await client.place_order(
            OrderCreate(symbol=BTC, side="buy", amount=10, type="stop", price=120.0)
        )
        exit_ = await client.place_order(
            OrderCreate(symbol=BTC, side="sell", amount=10, type="limit", price=130.0)
        )
        await client.risk_halt("holiday")
        # a bar through every level: nothing bought, the sell still fills
        await trading.bar(BTC, 2, 100, 140, 90, 100)
        assert (await client.order(limit.order.id)).state == "cancelled"
        assert (await client.order(stop.order.id)).reason == "kill switch: holiday"
        assert (await client.order(exit_.order.id)).state == "filled"
        assert await client.positions() == []


def test_mt_risk_halt_names_the_buys_it_cancelled(mt: MT, daemon: ThreadedTrading) -> None:
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    placed = mt.json("trade", "buy", BTC, "10", "--type", "limit", "--price", "90")
    halted = mt("risk", "halt", "--reason", "news")
    assert halted.exit_code == 0, halted.stderr
    assert f"cancelled the open buy orders {placed['order']['id']}" in halted.stdout
    assert mt.json("orders", "--open") == []
