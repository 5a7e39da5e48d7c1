"""Closing a bracketed paper position by hand: `mt trade sell` of the whole position cancels its stop-loss
and take-profit and sells. It was refused ("the 0.01 held are all reserved by open sell orders"), while
`mt orders cancel` of the stop was refused with "sell the position instead": the position could be closed
only by leaving it unprotected first. A partial sell resizes them (test_partial_sell_bracketed)."""

from __future__ import annotations

from mastertrade.config import RiskSettings
from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.engine.execution.bracket_sell import SOLD_BY_HAND
from mastertrade.engine.risk.check import Holding, PortfolioSnapshot, ProposedOrder, Verdict, check_order
from tests.trading.conftest import TradingEngine

BTC = "BTC/USDT"


async def test_selling_the_whole_position_replaces_its_exits(trading: TradingEngine) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    async with trading.client() as client:
        entry = await client.place_order(
            OrderCreate(symbol=BTC, side="buy", amount=10, stop_loss=0.05, take_profit=0.1)
        )
        await trading.bar(BTC, 1, 100, 101, 99, 100)
        exits = [o for o in await client.orders(open_only=True) if o.parent_id == entry.order.id]
        assert {o.role for o in exits} == {"stop_loss", "take_profit"}
        sold = await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=10))
        assert sold.risk is not None and sold.risk.verdict == "approve"
        stop, take = sorted(exits, key=lambda o: o.role)
        assert sold.exits == (
            f"its exits were cancelled: order {stop.id} (stop-loss), order {take.id} (take-profit)"
        )
        for row in exits:
            assert (await client.order(row.id)).reason == (
                f"{SOLD_BY_HAND}{sold.order.id}: cancelled with its position"
            )
        await trading.bar(BTC, 2, 100, 101, 99, 100)
        assert (await client.order(sold.order.id)).state == "filled"
        assert await client.positions() == []


def test_float_residue_is_not_a_free_position() -> None:
    # 0.002 bought and sold, then 0.01 bought, left 0.010000000000000055 held under a 0.01 stop: a sell
    # was "resized to the free position 5.5511151e-17" instead of being told the units are reserved
    held = Holding(0.010000000000000055, 25_000.0, reserved=0.01)
    portfolio = PortfolioSnapshot(cash=1_000.0, holdings={BTC: held})
    decision = check_order(ProposedOrder(BTC, "sell", 0.01, 25_000.0), portfolio, RiskSettings())
    assert decision.verdict is Verdict.REJECT and "all reserved" in decision.reason


async def test_the_whole_position_as_shown_sells_all_of_it(trading: TradingEngine) -> None:
    # 1.23456789 held is shown as 1.2345679: a sell of that was "more than held" (the bracket's stop
    # reserves the rest), refused with "sell all 1.2345679", which was refused again.
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    async with trading.client() as client:
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=1.23456789, stop_loss=0.05))
        await trading.bar(BTC, 1, 100, 101, 99, 100)
        [position] = await client.positions()
        shown = float(f"{position.amount:.8g}")
        assert shown == 1.2345679 and shown > position.amount
        asked = OrderCreate(symbol=BTC, side="sell", amount=shown, client_order_id="all-of-it")
        sold = await client.place_order(asked)
        assert sold.risk.verdict == "approve" and sold.order.amount == position.amount
        again = await client.place_order(asked)  # the same command again finds it
        assert again.order.id == sold.order.id
        await trading.bar(BTC, 2, 100, 101, 99, 100)
        assert (await client.order(sold.order.id)).state == "filled"
        assert await client.positions() == []


async def test_a_position_left_a_hair_below_its_amount_by_its_fills_sells_as_shown(
    trading: TradingEngine,
) -> None:
    # 0.3 bought and 0.1 sold leave 0.19999999999999998: a sell of 0.2 was refused "the limits allow 0.2
    # BTC of the 0.2 asked" (a resize of a human's order).
    await trading.bar(BTC, 0, 1000, 1001, 999, 1000)
    async with trading.client() as client:
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=0.3))
        await trading.bar(BTC, 1, 1000, 1001, 999, 1000)
        await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=0.1))
        await trading.bar(BTC, 2, 1000, 1001, 999, 1000)
        [position] = await client.positions()
        assert position.amount < 0.2 and f"{position.amount:.8g}" == "0.2"
        sold = await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=0.2))
        assert sold.risk.verdict == "approve" and sold.order.amount == position.amount
        await trading.bar(BTC, 3, 1000, 1001, 999, 1000)
        assert await client.positions() == []
