"""A paper symbol holding both a buy bracketed by hand and an active strategy's position, each with its
own stop-loss and take-profit in the paper book.

A sell by hand of the account's own coins resized whichever exit set was newest: with the strategy's
entry after the hand buy, the strategy's exits shrank below what it holds while the hand-placed ones
kept covering coins already sold (each owner's levels on the other's coins). Now the sell takes its own
owner's sets first (``bracket_sell.plan``), then the strategy's, each kept at its own levels.
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


async def _exits(trading: TradingEngine) -> dict[str | None, list[dict[str, Any]]]:
    """The open exits by owner (None: the account's own), stop first."""
    owners: dict[str | None, list[dict[str, Any]]] = {}
    for order in sorted(
        await trading.trader.account.orders(limit=200), key=lambda o: o["role"] != "stop_loss"
    ):
        if order["side"] == "sell" and order["state"] == "open" and order["parent_id"] is not None:
            owners.setdefault(order["strategy_id"], []).append(order)
    return owners


async def _both(trading: TradingEngine) -> tuple[float, list[dict[str, Any]], list[dict[str, Any]]]:
    """5 BTC bought by hand with a stop-loss and take-profit, then the strategy's entry (the newer)."""
    await trading.bar(BTC, 0, 100, 101, 99, 99.5)
    async with trading.client() as client:
        await client.place_order(
            OrderCreate(symbol=BTC, side="buy", amount=5, stop_loss=0.2, take_profit=0.5)
        )
    await trading.bar(BTC, 1, 99.5, 101, 99, 100.5)  # the hand buy fills; an up bar: the entry signal
    await trading.bar(BTC, 2, 100.5, 102, 100, 101.5)  # the entry fills
    exits = await _exits(trading)
    strategy, hand = exits["guarded"], exits[None]
    assert [o["amount"] for o in hand] == [5.0, 5.0]
    return float(strategy[0]["amount"]), strategy, hand


def _levels(orders: list[dict[str, Any]]) -> tuple[Any, Any]:
    return orders[0]["stop_price"], orders[1]["price"]


async def test_a_sell_of_the_accounts_own_coins_resizes_the_hand_placed_exits_not_the_strategys(
    trading: TradingEngine,
) -> None:
    share, strategy, hand = await _both(trading)
    async with trading.client() as client:
        sold = await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=2))

    assert sold.order.strategy_id is None
    assert sold.exits is not None and sold.exits.startswith(
        f"its exits order {hand[0]['id']} (stop-loss), order {hand[1]['id']} (take-profit) were resized to 3 "
    )
    exits = await _exits(trading)
    assert [o["id"] for o in exits["guarded"]] == [o["id"] for o in strategy]  # untouched
    assert [o["amount"] for o in exits[None]] == [3.0, 3.0] and _levels(exits[None]) == _levels(hand)
    await trading.bar(BTC, 3, 101.5, 102, 101, 101.8)  # the sell fills
    assert await trading.trader.account.strategy_holding("guarded", BTC) == pytest.approx(share)


async def test_a_sell_past_the_accounts_own_coins_takes_the_rest_from_the_strategys_at_its_levels(
    trading: TradingEngine,
) -> None:
    share, strategy, hand = await _both(trading)
    async with trading.client() as client:
        await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=15))

    exits = await _exits(trading)
    assert None not in exits  # the hand-placed exits went with the coins they covered
    left = share - 10
    assert [o["amount"] for o in exits["guarded"]] == [pytest.approx(left)] * 2
    assert _levels(exits["guarded"]) == _levels(strategy)
