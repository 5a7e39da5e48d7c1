"""A second sell by hand while a first one, taking several owners' coins, still waits (a paper market sell
fills at the next bar's open): a paper symbol held by the account (50 BTC bought by hand) and two active
strategies without exits ("a" and "b": nothing reserves their coins).

The first sell carried each owner's share, but the second was booked as the account's own: it took coins
the first had promised already (the account's own, or "a"'s), so once both filled a strategy still counted
what the second sold of its, and the strategies' positions added up to more than was held. Now the second
sell shares out what the first leaves (each owner's holding less its part of the sells by hand on their
way) and its answer names what it takes: together they never take more of an owner than it holds, also
as a restarted daemon folds them.
"""

from __future__ import annotations

import pytest

from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.engine.execution.strategies import StaticStrategies, TradedStrategy
from mastertrade.engine.signals.genome import parse_genome
from mastertrade.engine.signals.strategy import Strategy
from tests.trading.conftest import TradingEngine
from tests.trading.owners import assert_owners, owners
from tests.trading.test_service import BTC, UP_DOWN

OWN = 50.0
"""What the trader buys by hand beside the strategies' positions (the account's own coins)."""


@pytest.fixture
def trading_strategies() -> StaticStrategies:
    bare = {key: value for key, value in UP_DOWN.items() if key not in ("stop_loss", "size")}
    return StaticStrategies(
        [
            TradedStrategy(
                name, "active", Strategy.from_genome(parse_genome({**bare, "name": name, "size": 0.2}))
            )
            for name in ("a", "b")
        ]
    )


async def _all(trading: TradingEngine) -> tuple[float, float]:
    """Both strategies' entries, then the account's own coins; what each strategy holds."""
    await trading.bar(BTC, 0, 100, 101, 99, 99.5)
    await trading.bar(BTC, 1, 99.5, 101, 99, 100.5)  # an up bar: the entry signals
    await trading.bar(BTC, 2, 100.5, 102, 100, 101.5)  # the entries fill
    account = trading.trader.account
    a, b = await account.strategy_holding("a", BTC), await account.strategy_holding("b", BTC)
    async with trading.client() as client:
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=OWN))
    await trading.bar(BTC, 3, 101.5, 102, 101, 101.8)  # the account's own coins are bought
    assert_owners(await owners(account.journal, account.book, BTC), own=OWN, a=a, b=b)
    return a, b


async def _restarted(book: str) -> dict[str | None, float]:
    """What each owner holds as a restarted daemon folds it (a new connection, nothing remembered)."""
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database
    from mastertrade.engine.execution.journal import Journal

    db = await Database.open(load_settings())
    try:
        return await owners(Journal(db), book, BTC)
    finally:
        await db.close()


async def test_a_second_sell_takes_what_the_first_leaves_of_each_owner(trading: TradingEngine) -> None:
    a, b = await _all(trading)
    account = trading.trader.account
    async with trading.client() as client:
        first = await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=OWN + a / 2))
        second = await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=a / 2 + b / 2))

    assert first.order.state == second.order.state == "open"  # both wait for the next bar
    assert [(share.strategy_id, share.amount) for share in first.order.shares or []] == [
        (None, pytest.approx(OWN)),
        ("a", pytest.approx(a / 2)),
    ]
    assert second.order.strategy_id is None
    assert [(share.strategy_id, share.amount) for share in second.order.shares or []] == [
        ("a", pytest.approx(a / 2)),
        ("b", pytest.approx(b / 2)),
    ]
    assert second.exits == (
        f"the sell takes {a / 2 + b / 2:.8g} of the {a / 2 + b:.8g} {BTC} held by strategies "
        f"a ({a / 2:.8g}), b ({b:.8g}), which no exit order reserves (none rests at the exchange), in that "
        f"order: all of strategy a's {a / 2:.8g} (its position ends with it), {b / 2:.8g} of strategy b's "
        f"{b:.8g} (it keeps {b / 2:.8g}, without exit orders)"
    )

    await trading.bar(BTC, 4, 101.8, 103, 101.5, 102.5)  # both fill (an up bar: no exit signal)

    assert_owners(await owners(account.journal, account.book, BTC), b=b / 2)
    assert await account.strategy_holding("a", BTC) == 0.0
    assert (await account.holdings())[BTC] == pytest.approx(b / 2)
    assert_owners(await _restarted(account.book), b=b / 2)


async def test_a_second_sell_within_one_strategys_rest_is_that_strategys(trading: TradingEngine) -> None:
    a, b = await _all(trading)
    account = trading.trader.account
    async with trading.client() as client:
        await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=OWN + a + b / 2))
        second = await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=b / 4))

    assert second.order.strategy_id == "b" and second.order.shares is None
    assert second.exits == (
        f"the sell takes {b / 4:.8g} of strategy b's {b / 2:.8g} {BTC}; it keeps {b / 4:.8g}, without exit "
        "orders"
    )

    await trading.bar(BTC, 4, 101.8, 103, 101.5, 102.5)  # both fill

    assert_owners(await owners(account.journal, account.book, BTC), b=b / 4)
    assert_owners(await _restarted(account.book), b=b / 4)
