"""A strategy's take-profit cancelled by hand on paper stays cancelled: its stop keeps working alone, and
nothing puts the take-profit back until the strategy's next entry brings its own exits, as live
(``Protector.cancel_take_profit``, ``tests/trading/test_native_stops.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.engine.execution.strategies import StaticStrategies, TradedStrategy
from mastertrade.engine.signals.genome import parse_genome
from mastertrade.engine.signals.strategy import Strategy
from tests.trading.conftest import TradingEngine
from tests.trading.test_service import BTC, UP_DOWN


@pytest.fixture
def trading_strategies() -> StaticStrategies:
    genome = parse_genome({**UP_DOWN, "name": "guarded", "take_profit": 0.1})
    return StaticStrategies([TradedStrategy("guarded", "active", Strategy.from_genome(genome))])


def _exits(orders: list[dict[str, Any]], role: str) -> list[dict[str, Any]]:
    return [o for o in orders if o["role"] == role and o["state"] == "open"]


async def test_a_strategys_take_profit_cancelled_by_hand_is_not_put_back(trading: TradingEngine) -> None:
    trader = trading.trader
    await trading.bar(BTC, 0, 100, 101, 99, 100.5)  # an up bar: the entry signal
    await trading.bar(BTC, 1, 100.5, 102, 100, 101.5)  # the entry fills at the open; its exits arm
    orders = [o for o in await trader.account.orders(limit=200) if o["strategy_id"] == "guarded"]
    [take] = _exits(orders, "take_profit")
    [stop] = _exits(orders, "stop_loss")

    async with trading.client() as client:
        assert (await client.cancel_order(take["id"])).state == "cancelled"
    # up bars (the position is held), the last one through the old take-profit level (110.55)
    ups = [(101.5, 103, 101, 102.5), (102.5, 104, 102, 103.5), (103.5, 112, 103, 111.0)]
    for i, (o, h, low, c) in enumerate(ups, start=2):
        await trading.bar(BTC, i, o, h, low, c)
    orders = [o for o in await trader.account.orders(limit=200) if o["strategy_id"] == "guarded"]
    assert _exits(orders, "take_profit") == []
    assert [o["id"] for o in _exits(orders, "stop_loss")] == [stop["id"]]  # its stop keeps working
    assert not [o for o in orders if o["side"] == "sell" and o["state"] == "filled"]  # nothing sold
    [position] = await trader.account.positions()
    assert position["amount"] == pytest.approx(take["amount"])
