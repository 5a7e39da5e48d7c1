"""A paper symbol holding a buy bracketed by hand and an active strategy's position with no exit orders
(a strategy without a stop-loss or take-profit: nothing reserves its coins).

A sell by hand took the strategy's coins first: they were free, so the hand-placed exits kept covering
all the account's own coins. Now the strategy's position counts as its own (``watched_sell``), as a
live one whose exits only the daemon watches (``test_sell_watched_position_live``): a sell of the
account's own coins resizes the hand-placed exits; one reaching past them is refused naming the
strategy's position and the two commands that sell as much, and ``POST /v1/orders/check`` says the
same.
"""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade import errors
from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.engine.execution.strategies import StaticStrategies, TradedStrategy
from mastertrade.engine.signals.genome import parse_genome
from mastertrade.engine.signals.strategy import Strategy
from tests.trading.conftest import TradingEngine
from tests.trading.test_service import BTC, UP_DOWN


@pytest.fixture
def trading_strategies() -> StaticStrategies:
    bare = {key: value for key, value in UP_DOWN.items() if key != "stop_loss"}
    genome = parse_genome({**bare, "name": "bare"})
    return StaticStrategies([TradedStrategy("bare", "active", Strategy.from_genome(genome))])


async def _hand_exits(trading: TradingEngine) -> list[dict[str, Any]]:
    """The open exits placed by hand, stop first."""
    orders = sorted(await trading.trader.account.orders(limit=200), key=lambda o: o["role"] != "stop_loss")
    return [
        o
        for o in orders
        if o["side"] == "sell"
        and o["state"] == "open"
        and o["parent_id"] is not None
        and not o["strategy_id"]
    ]


async def _both(trading: TradingEngine) -> float:
    """5 BTC bought by hand with a stop-loss and take-profit, then the strategy's entry."""
    await trading.bar(BTC, 0, 100, 101, 99, 99.5)
    async with trading.client() as client:
        await client.place_order(
            OrderCreate(symbol=BTC, side="buy", amount=5, stop_loss=0.2, take_profit=0.5)
        )
    await trading.bar(BTC, 1, 99.5, 101, 99, 100.5)  # the hand buy fills; an up bar: the entry signal
    await trading.bar(BTC, 2, 100.5, 102, 100, 101.5)  # the entry fills
    assert [o["amount"] for o in await _hand_exits(trading)] == [5.0, 5.0]
    share = await trading.trader.account.strategy_holding("bare", BTC)
    assert share > 0
    return share


async def test_a_sell_of_the_accounts_own_coins_resizes_the_hand_placed_exits(trading: TradingEngine) -> None:
    share = await _both(trading)
    async with trading.client() as client:
        sold = await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=2))

    assert sold.order.strategy_id is None and sold.exits is not None
    assert sold.exits.startswith("its exits order ") and " were resized to 3 " in sold.exits
    assert [o["amount"] for o in await _hand_exits(trading)] == [3.0, 3.0]
    await trading.bar(BTC, 3, 101.5, 102, 101, 101.8)  # the sell fills
    assert await trading.trader.account.strategy_holding("bare", BTC) == pytest.approx(share)


async def test_a_sell_past_the_accounts_own_coins_is_refused_naming_the_strategys_position(
    trading: TradingEngine,
) -> None:
    share = await _both(trading)
    amount = 5 + share / 2
    order = OrderCreate(symbol=BTC, side="sell", amount=amount)
    async with trading.client() as client:
        with pytest.raises(errors.UserInputError) as checked:
            await client.check_order(order)
        with pytest.raises(errors.UserInputError) as refused:
            await client.place_order(order)

    said = str(refused.value)
    assert str(checked.value) == said
    assert f"only 5 of the {5 + share:.8g} BTC held are the account's own" in said
    assert f"strategy bare holds {share:.8g} BTC, without exit orders" in said
    assert f"(`mt trade sell {BTC} 5`), then the {share / 2:.8g} left" in said
    assert f"(`mt trade sell {BTC} {share / 2:.8g}`)" in said
    assert [o["amount"] for o in await _hand_exits(trading)] == [5.0, 5.0]  # nothing touched
