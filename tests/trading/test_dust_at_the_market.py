"""An order is dust by what it trades at: a limit buy above the market (a limit sell below it, a stop
sell above it) trades at once at the market. `mt trade buy BTC/USDT 0.00001 --type limit --price 1000000`
passed the 10 USDT minimum as "worth 10" and bought 0.01 USDT of BTC at 100; a limit sell of 0.2 at 1
(worth 20 at the market) was refused as worth 0.2."""

from __future__ import annotations

import pytest

from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.errors import UserInputError
from tests.trading.conftest import TradingEngine

BTC = "BTC/USDT"


async def test_marketable_orders_are_valued_at_the_market(trading: TradingEngine) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    async with trading.client() as client:
        with pytest.raises(UserInputError, match=r"is dust: worth 0\.01 USDT"):
            await client.place_order(
                OrderCreate(symbol=BTC, side="buy", amount=0.0001, type="limit", price=1_000_000)
            )
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=1))
        await trading.bar(BTC, 1, 100, 101, 99, 100)
        with pytest.raises(UserInputError, match=r"is dust: worth 0\.01 USDT"):
            await client.place_order(
                OrderCreate(symbol=BTC, side="sell", amount=0.0001, type="stop", price=1_000_000)
            )
        # a limit sell below the market sells at the market: 0.2 at 100 is no dust (it was refused
        # as worth 0.2 at its limit of 1)
        placed = await client.place_order(
            OrderCreate(symbol=BTC, side="sell", amount=0.2, type="limit", price=1)
        )
        assert placed.order.state == "open"
        # a resting order is worth its own price: a limit sell above the market is not dust
        resting = await client.place_order(
            OrderCreate(symbol=BTC, side="sell", amount=0.0001, type="limit", price=1_000_000)
        )
        assert resting.order.state == "open"
