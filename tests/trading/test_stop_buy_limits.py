"""A buy stop is valued at what it will pay: its trigger, or the market when the market is past the
trigger already (it then fills at once at the market). Valued at its trigger, `mt trade buy BTC/USDT 900
--type stop --price 1` passed the 20% position limit as a 900 USDT order and bought 90,000 USDT of BTC,
90% of the account."""

from __future__ import annotations

import pytest

from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.errors import RiskRejected
from tests.trading.conftest import TradingEngine

BTC = "BTC/USDT"


async def test_a_stop_below_the_market_is_checked_at_the_market(trading: TradingEngine) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    async with trading.client() as client:
        with pytest.raises(RiskRejected, match="position limit"):
            await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=900, type="stop", price=1.0))
        await trading.bar(BTC, 1, 100, 101, 99, 100)
        assert await client.positions() == []
        # one that fits at the market is placed, valued (and its cash reserved) at the market
        placed = await client.place_order(
            OrderCreate(symbol=BTC, side="buy", amount=100, type="stop", price=1.0)
        )
        assert placed.risk is not None and placed.risk.price == 100.0
        assert (await client.balance()).reserved == pytest.approx(100 * 100 * 1.001)  # its fee held back too
        await trading.bar(BTC, 2, 100, 101, 99, 100)
        (position,) = await client.positions()
        assert position.amount == 100 and position.value <= 0.2 * 100_000


async def test_a_stop_above_the_market_is_checked_at_its_trigger(trading: TradingEngine) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    async with trading.client() as client:
        # 150 units: 15,000 at the market, 30,000 at the trigger 200 it fills at or above
        with pytest.raises(RiskRejected, match="position limit"):
            await client.place_order(
                OrderCreate(symbol=BTC, side="buy", amount=150, type="stop", price=200.0)
            )
        placed = await client.place_order(
            OrderCreate(symbol=BTC, side="buy", amount=50, type="stop", price=200.0)
        )
        assert placed.risk is not None and placed.risk.price == 200.0
