"""A manual buy over a limit is refused naming the amount the limits allow, "order that amount": that
amount, shown to 8 significant digits, was rounded to the nearest, so it could be a hair over what the
limit allows, and ordering it as told was refused again (6,666.6667 at 3 is 20,000.0001 against a room
of 20,000). It is now rounded down, so the amount named is one the limits take."""

from __future__ import annotations

import re

import pytest

from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.errors import RiskRejected
from tests.trading.conftest import TradingEngine

BTC = "BTC/USDT"


async def test_the_amount_a_refusal_names_is_one_the_limits_take(trading: TradingEngine) -> None:
    await trading.bar(BTC, 0, 3, 3, 3, 3)  # 100,000 of cash: 20,000 of room in one symbol
    async with trading.client() as client:
        with pytest.raises(RiskRejected) as refused:
            await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=10_000))
        found = re.search(r"the limits allow ([0-9.e+-]+) BTC", str(refused.value))
        assert found is not None, str(refused.value)
        allowed = found.group(1)
        assert allowed == "6666.6666"
        placed = await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=float(allowed)))
    assert placed.risk.verdict == "approve"
