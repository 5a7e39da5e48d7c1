"""Selling part or all of a paper strategy's position by hand (``POST /v1/orders``, ``mt trade sell``).

Its exits were replaced (``bracket_sell``), but the sell was the account's own: the strategy still
counted the coins it sold as its own. After a whole sell, its exit signal was refused ("no free position
to sell") and it never entered again; after a partial sell and its exit signal, the part sold by hand
stayed counted as held, with the same end. Now the sell by hand of a position that is the strategy's is
booked as the strategy's, and what a strategy holds is never more than the account holds.
"""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.engine.execution.strategies import StaticStrategies, TradedStrategy
from mastertrade.engine.signals.genome import parse_genome
from mastertrade.engine.signals.strategy import Strategy
from tests.trading.conftest import TradingEngine
from tests.trading.test_service import BTC, UP_DOWN


@pytest.fixture
def trading_strategies() -> StaticStrategies:
    genome = parse_genome({**UP_DOWN, "name": "guarded", "take_profit": 0.1})
    return StaticStrategies([TradedStrategy("guarded", "active", Strategy.from_genome(genome))])


async def _strategy_orders(trading: TradingEngine) -> list[dict[str, Any]]:
    return [o for o in await trading.trader.account.orders(limit=200) if o["strategy_id"] == "guarded"]


def _open(orders: list[dict[str, Any]], role: str) -> list[dict[str, Any]]:
    return [o for o in orders if o["role"] == role and o["state"] == "open"]


async def _entered(trading: TradingEngine) -> float:
    await trading.bar(BTC, 0, 100, 101, 99, 100.5)  # an up bar: the entry signal
    await trading.bar(BTC, 1, 100.5, 102, 100, 101.5)  # the entry fills at the open; its exits arm
    [entry] = [o for o in await _strategy_orders(trading) if o["role"] == "entry"]
    assert entry["state"] == "filled"
    return float(entry["filled"])


async def test_after_a_whole_sell_by_hand_the_strategy_enters_again(trading: TradingEngine) -> None:
    held = await _entered(trading)
    async with trading.client() as client:
        sold = await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=held))
    assert sold.order.strategy_id == "guarded" and sold.exits is not None
    await trading.bar(BTC, 2, 101.5, 102, 101, 101.8)  # the sell fills
    assert await trading.trader.account.positions() == []
    assert await trading.trader.account.strategy_holding("guarded", BTC) == 0.0

    await trading.bar(BTC, 3, 101.8, 103, 101, 102.5)  # its next entry signal
    await trading.bar(BTC, 4, 102.5, 104, 102, 103.5)
    entries = [o for o in await _strategy_orders(trading) if o["role"] == "entry"]
    assert [o["state"] for o in entries] == ["filled", "filled"]  # before: it stayed "long", never entered
    orders = await _strategy_orders(trading)
    assert len(_open(orders, "stop_loss")) == len(_open(orders, "take_profit")) == 1


async def test_after_a_partial_sell_by_hand_the_exit_signal_sells_the_rest_and_it_enters_again(
    trading: TradingEngine,
) -> None:
    held = await _entered(trading)
    part = round(held * 0.4, 6)
    async with trading.client() as client:
        sold = await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=part))
    assert sold.order.strategy_id == "guarded"
    assert sold.exits is not None and "were resized to" in sold.exits
    orders = await _strategy_orders(trading)
    [stop] = _open(orders, "stop_loss")
    [take] = _open(orders, "take_profit")
    assert stop["amount"] == take["amount"] == pytest.approx(held - part)
    await trading.bar(BTC, 2, 101.5, 102, 101, 101.8)  # the sell fills
    assert await trading.trader.account.strategy_holding("guarded", BTC) == pytest.approx(held - part)

    await trading.bar(BTC, 3, 101.8, 102, 100.5, 101.0)  # a down bar: the exit signal
    await trading.bar(BTC, 4, 101.0, 101.5, 100.5, 101.2)  # the exit fills; an up bar: the entry signal
    [exit_] = [o for o in await _strategy_orders(trading) if o["role"] == "exit"]
    assert exit_["amount"] == pytest.approx(held - part) and exit_["state"] == "filled"
    assert await trading.trader.account.strategy_holding("guarded", BTC) == 0.0
    await trading.bar(BTC, 5, 101.2, 102, 101, 101.9)
    entries = [o for o in await _strategy_orders(trading) if o["role"] == "entry"]
    assert [o["state"] for o in entries] == ["filled", "filled"]


async def test_a_sell_of_the_accounts_own_coins_beside_a_strategys_is_the_accounts(
    trading: TradingEngine,
) -> None:
    held = await _entered(trading)
    async with trading.client() as client:
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=5))
        await trading.bar(BTC, 2, 101.5, 102, 101, 101.8)
        sold = await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=5))
    assert sold.order.strategy_id is None and sold.exits is None  # free coins: the exits untouched
    await trading.bar(BTC, 3, 101.8, 103, 101, 102.5)
    assert await trading.trader.account.strategy_holding("guarded", BTC) == pytest.approx(held)
