"""A paper symbol held by the account (20 BTC bought by hand, without exits) and three active strategies:
"a" and "b", each with its stop-loss and take-profit in the paper book (they reserve its coins), and "w"
with neither (nothing reserves its coins: ``watched_sell``).

A sell by hand of the account's own coins and more replaced the strategies' exits (the newest set
cancelled, the older one resized for what the sell left) but was booked as the account's own: "a" and
"b" kept counting what it sold of theirs, so the strategies' positions added up to more than the account
held, and the exits left for "a" covered coins "a" no longer had by the books. Now the sell carries each
owner's share, in the order it takes them (the account's own, then the strategies whose sets it takes,
the newest set first, the one resized last) and its answer names them: each strategy's position drops by
its share, the exits left cover what their strategy still holds, "w"'s position is untouched, and a
restarted daemon folds the same positions from the journal.
"""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.engine.execution.strategies import StaticStrategies, TradedStrategy
from mastertrade.engine.signals.genome import parse_genome
from mastertrade.engine.signals.strategy import Strategy
from tests.trading.conftest import TradingEngine
from tests.trading.owners import assert_owners, owners
from tests.trading.test_service import BTC, UP_DOWN

OWN = 20.0
"""What the trader buys by hand beside the strategies' positions (the account's own coins)."""


@pytest.fixture
def trading_strategies() -> StaticStrategies:
    def traded(name: str, **exits: float) -> TradedStrategy:
        bare = {key: value for key, value in UP_DOWN.items() if key not in ("stop_loss", "size")}
        genome = parse_genome({**bare, "name": name, "size": 0.2, **exits})
        return TradedStrategy(name, "active", Strategy.from_genome(genome))

    # "a" first: its exits are the older set, so the sell takes "b"'s (the newest) before "a"'s
    return StaticStrategies(
        [
            traded("a", stop_loss=0.03, take_profit=0.1),
            traded("b", stop_loss=0.03, take_profit=0.1),
            traded("w"),
        ]
    )


async def _exits(trading: TradingEngine) -> dict[str | None, list[dict[str, Any]]]:
    """The open exits by owner, stop first."""
    owners: dict[str | None, list[dict[str, Any]]] = {}
    for order in sorted(
        await trading.trader.account.orders(limit=200), key=lambda o: o["role"] != "stop_loss"
    ):
        if order["side"] == "sell" and order["state"] == "open" and order["parent_id"] is not None:
            owners.setdefault(order["strategy_id"], []).append(order)
    return owners


async def _all(trading: TradingEngine) -> tuple[float, float, float]:
    """The strategies' entries (each with its exits), then the account's own coins; what each holds."""
    await trading.bar(BTC, 0, 100, 101, 99, 99.5)
    await trading.bar(BTC, 1, 99.5, 101, 99, 100.5)  # an up bar: the entry signals
    await trading.bar(BTC, 2, 100.5, 102, 100, 101.5)  # the entries fill; their exits arm
    account = trading.trader.account
    a, b, w = [await account.strategy_holding(sid, BTC) for sid in ("a", "b", "w")]
    async with trading.client() as client:
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=OWN))
    await trading.bar(BTC, 3, 101.5, 102, 101, 101.8)  # the account's own coins are bought
    exits = await _exits(trading)
    assert [o["amount"] for o in exits["a"]] == [pytest.approx(a)] * 2
    assert [o["amount"] for o in exits["b"]] == [pytest.approx(b)] * 2
    assert "w" not in exits and None not in exits
    assert exits["a"][0]["id"] < exits["b"][0]["id"]
    assert_owners(await owners(account.journal, account.book, BTC), own=OWN, a=a, b=b, w=w)
    return a, b, w


async def test_a_sell_of_the_accounts_own_and_two_strategies_exits_drops_each_by_its_share(
    trading: TradingEngine,
) -> None:
    a, b, w = await _all(trading)
    account = trading.trader.account
    old = await _exits(trading)
    amount = OWN + b + a / 2
    async with trading.client() as client:
        sold = await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=amount))

    assert sold.order.strategy_id is None
    assert [(share.strategy_id, share.amount) for share in sold.order.shares or []] == [
        (None, pytest.approx(OWN)),
        ("b", pytest.approx(b)),
        ("a", pytest.approx(a / 2)),
    ]
    assert sold.exits is not None and sold.exits.startswith(
        f"the sell takes {b + a / 2:.8g} of the {a + b:.8g} {BTC} held by strategies b ({b:.8g}), "
        f"a ({a:.8g}) (after the account's own {OWN:.8g}), whose exits it replaces, in that order: all of "
        f"strategy b's {b:.8g}, {a / 2:.8g} of strategy a's {a:.8g}; its exits order {old['a'][0]['id']} "
        f"(stop-loss), order {old['a'][1]['id']} (take-profit) were resized to {a / 2:.8g} {BTC}"
    )
    exits = await _exits(trading)  # what is left of "a"'s, at its levels; "b"'s went with its coins
    assert list(exits) == ["a"] and [o["amount"] for o in exits["a"]] == [pytest.approx(a / 2)] * 2

    await trading.bar(BTC, 4, 101.8, 103, 101.5, 102.5)  # the sell fills (an up bar: no exit signal)

    assert_owners(await owners(account.journal, account.book, BTC), a=a / 2, w=w)
    assert await account.strategy_holding("b", BTC) == 0.0
    assert await account.strategy_holding("a", BTC) == pytest.approx(a / 2)
    assert (await account.holdings())[BTC] == pytest.approx(a / 2 + w)
    assert [o["amount"] for o in (await _exits(trading))["a"]] == [pytest.approx(a / 2)] * 2

    from mastertrade.config import load_settings
    from mastertrade.db.database import Database
    from mastertrade.engine.execution.journal import Journal

    db = await Database.open(load_settings())  # a restarted daemon reads the same
    try:
        assert_owners(await owners(Journal(db), account.book, BTC), a=a / 2, w=w)
    finally:
        await db.close()


async def test_a_sell_beside_the_watched_position_takes_the_strategys_with_exits_after_the_accounts_own(
    trading: TradingEngine,
) -> None:
    """The mixed case: "w"'s position no exit reserves stays "w"'s; the sell takes the account's own, then
    the coins whose exits it replaces ("b"'s, the newest set), and is booked by those shares."""
    a, b, w = await _all(trading)
    account = trading.trader.account
    amount = OWN + b / 4
    async with trading.client() as client:
        sold = await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=amount))

    assert [(share.strategy_id, share.amount) for share in sold.order.shares or []] == [
        (None, pytest.approx(OWN)),
        ("b", pytest.approx(b / 4)),
    ]
    assert sold.exits is not None and sold.exits.startswith(
        f"the sell takes {b / 4:.8g} of strategy b's {b:.8g} {BTC} (after the account's own {OWN:.8g}); "
        "its exits order "
    )
    await trading.bar(BTC, 4, 101.8, 103, 101.5, 102.5)  # the sell fills

    assert_owners(await owners(account.journal, account.book, BTC), a=a, b=3 * b / 4, w=w)
    exits = await _exits(trading)
    assert [o["amount"] for o in exits["b"]] == [pytest.approx(3 * b / 4)] * 2
    assert [o["amount"] for o in exits["a"]] == [pytest.approx(a)] * 2
