"""A paper symbol held by two active strategies without a stop-loss or take-profit ("a" and "b": nothing
reserves their coins), and nothing of the account's own.

A sell by hand taking from both said only the total ("the sell takes 0.3 of the 0.4 BTC/USDT held by
strategies a (0.2), b (0.2) ..."), and a sell of the first one's coins alone was booked as the account's
own, so both strategies still counted them. Now the sell takes the account's own first, then the
strategies in the order the answer names them (by id), and says each one's share; a sell taking only
one strategy's coins is that strategy's (its position shrinks, the other's does not).
"""

from __future__ import annotations

import pytest

from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.engine.execution.strategies import StaticStrategies, TradedStrategy
from mastertrade.engine.signals.genome import parse_genome
from mastertrade.engine.signals.strategy import Strategy
from tests.trading.conftest import TradingEngine
from tests.trading.test_service import BTC, UP_DOWN


@pytest.fixture
def trading_strategies() -> StaticStrategies:
    bare = {key: value for key, value in UP_DOWN.items() if key not in ("stop_loss", "size")}
    return StaticStrategies(
        [
            TradedStrategy(
                name, "active", Strategy.from_genome(parse_genome({**bare, "name": name, "size": 0.2}))
            )
            for name in ("b", "a")
        ]
    )


async def _both(trading: TradingEngine) -> tuple[float, float]:
    """Both strategies' entries; what each holds."""
    await trading.bar(BTC, 0, 100, 101, 99, 99.5)
    await trading.bar(BTC, 1, 99.5, 101, 99, 100.5)  # an up bar: the entry signals
    await trading.bar(BTC, 2, 100.5, 102, 100, 101.5)  # the entries fill
    account = trading.trader.account
    a, b = await account.strategy_holding("a", BTC), await account.strategy_holding("b", BTC)
    assert a > 0 and b > 0
    assert (await account.holdings())[BTC] == pytest.approx(a + b)
    return a, b


async def test_a_sell_of_both_positions_names_each_share_in_order(trading: TradingEngine) -> None:
    a, b = await _both(trading)
    amount = a + b / 2
    async with trading.client() as client:
        sold = await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=amount))

    assert sold.exits == (
        f"the sell takes {amount:.8g} of the {a + b:.8g} {BTC} held by strategies a ({a:.8g}), b ({b:.8g}), "
        f"which no exit order reserves (none rests at the exchange), in that order: all of strategy a's "
        f"{a:.8g} (its position ends with it), {b / 2:.8g} of strategy b's {b:.8g} (it keeps {b / 2:.8g}, "
        "without exit orders)"
    )


async def test_a_sell_of_the_first_strategys_coins_is_booked_as_its(trading: TradingEngine) -> None:
    a, b = await _both(trading)
    async with trading.client() as client:
        sold = await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=a / 2))

    assert sold.order.strategy_id == "a"
    assert (
        sold.exits
        == f"the sell takes {a / 2:.8g} of strategy a's {a:.8g} {BTC}; it keeps {a / 2:.8g}, "
        + ("without exit orders")
    )
    await trading.bar(BTC, 3, 101.5, 102, 101, 101.8)  # the sell fills
    account = trading.trader.account
    held = (await account.holdings())[BTC]
    assert await account.strategy_holding("a", BTC) == pytest.approx(a / 2)
    assert await account.strategy_holding("b", BTC) == pytest.approx(b)
    assert held == pytest.approx(a / 2 + b)
