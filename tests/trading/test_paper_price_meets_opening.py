"""A price that arrives while a paper market order is being opened (its state committed and visible to
`mt orders`, the book not yet told) fills it. The price passed the order by, and `mt trade` then waited
30 s for a price that never came."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.engine.candle import Bar, Candle
from mastertrade.engine.orders import OrderState
from tests.trading.conftest import HOUR, T0, TradingEngine

BTC = "BTC/USDT"


async def test_a_price_while_a_market_order_opens_fills_it(
    trading: TradingEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    account = trading.trader.account
    journal = account.broker.journal
    real = journal.transition
    prices: list[asyncio.Task[Any]] = []

    async def price_while_opening(order_id: int, state: OrderState, **kwargs: Any) -> Any:
        row = await real(order_id, state, **kwargs)
        if state == OrderState.OPEN and not prices:
            # The order is open in the journal; the next price arrives before the book is told. It may
            # wait (for the order to be opened) but must not pass it by: give it its chance to run.
            price = asyncio.create_task(
                account.on_price(BTC, Bar(Candle(T0 + HOUR, 102, 102, 102, 102, 1.0), True))
            )
            prices.append(price)
            await asyncio.wait({price}, timeout=0.5)
        return row

    monkeypatch.setattr(journal, "transition", price_while_opening)
    async with trading.client() as client:
        placed = await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=5, type="market"))
        await asyncio.gather(*prices)
        final = await client.order(placed.order.id)
        positions = await client.positions()
    assert len(prices) == 1
    assert (final.state, final.filled, final.average_price) == ("filled", 5, 102)
    assert positions[0].amount == 5
