"""A cancel and the price update that fills the same paper order, at the same time: one of them wins,
and the answer says which. The cancel was answered "cancelled" (and published so) while the match being
written filled the order anyway: `mt orders cancel` said cancelled and the position was there."""

from __future__ import annotations

import asyncio

import pytest

from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.engine.candle import Bar, Candle
from mastertrade.errors import OperationFailed
from tests.trading.conftest import HOUR, T0, TradingEngine

BTC = "BTC/USDT"


@pytest.mark.parametrize("cancel_first", [False, True])
async def test_a_cancel_meeting_a_fill_says_what_happened(trading: TradingEngine, cancel_first: bool) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    account = trading.trader.account
    async with trading.client() as client:
        placed = await client.place_order(
            OrderCreate(symbol=BTC, side="buy", amount=10, type="limit", price=95.0)
        )
        order_id = placed.order.id
        through = account.on_price(BTC, Bar(Candle(T0 + 2 * HOUR, 94, 94, 90, 92, 1.0), True))
        cancel = account.cancel(order_id)
        jobs = (cancel, through) if cancel_first else (through, cancel)
        outcomes = await asyncio.gather(*jobs, return_exceptions=True)
        answer = outcomes[0 if cancel_first else 1]
        final = await client.order(order_id)
        positions = await client.positions()
        if isinstance(answer, dict):
            assert answer["state"] == "cancelled"
            assert final.state == "cancelled" and final.filled == 0 and positions == []
        else:
            assert isinstance(answer, OperationFailed) and "is already filled (10 at 94)" in str(answer)
            assert final.state == "filled" and positions[0].amount == 10
