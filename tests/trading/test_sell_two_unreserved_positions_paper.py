"""A paper symbol held by two active strategies without a stop-loss or take-profit ("a" and "b": nothing
reserves their coins), and nothing of the account's own.

A sell by hand taking from both said only the total ("the sell takes 0.3 of the 0.4 BTC/USDT held by
strategies a (0.2), b (0.2) ..."), and a sell of the first one's coins alone was booked as the account's
own, so both strategies still counted them. Now the sell takes the account's own first, then the
strategies in the order the answer names them (by id), and says each one's share; a sell taking only
one strategy's coins is that strategy's (its position shrinks, the other's does not).

A sell taking several owners' coins was still booked as the account's own: both strategies kept counting
what it sold of theirs, and their positions added up to more than the account held. Now it carries each
owner's share (``order_shares``): its fill is shared out in the order its answer names them, each
strategy's position drops by its share (with its part of the fee and of the P&L), also as read again after
a restart.
"""

from __future__ import annotations

import pytest

from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.engine.execution.strategies import StaticStrategies, TradedStrategy
from mastertrade.engine.signals.genome import parse_genome
from mastertrade.engine.signals.strategy import Strategy
from tests.trading.conftest import TradingEngine
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


async def test_a_sell_of_the_accounts_own_and_both_positions_drops_each_by_its_share(
    trading: TradingEngine,
) -> None:
    a, b = await _both(trading)
    account = trading.trader.account
    async with trading.client() as client:
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=OWN))
        await trading.bar(BTC, 3, 101.5, 102, 101, 101.8)  # the account's own coins are bought
        assert (await account.holdings())[BTC] == pytest.approx(OWN + a + b)
        before = {sid: await account.journal.strategy_ledger(account.book, sid) for sid in ("a", "b")}
        amount = OWN + a + b / 2
        sold = await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=amount))
        assert sold.exits is not None and sold.exits.startswith(
            f"the sell takes {a + b / 2:.8g} of the {a + b:.8g} {BTC} held by strategies a ({a:.8g}), b "
            f"({b:.8g}) (after the account's own {OWN:.8g}), which no exit order reserves"
        )
        await trading.bar(BTC, 4, 102, 103, 101.5, 102.5)  # the sell fills (an up bar: no exit signal)
        [position] = await client.positions()
        [order] = [o for o in await client.orders() if o.id == sold.order.id]

    assert order.state == "filled" and order.strategy_id is None
    # each strategy's position dropped by its share, the account's own by its: they add up to what is held
    assert await account.strategy_holding("a", BTC) == 0.0
    assert await account.strategy_holding("b", BTC) == pytest.approx(b / 2)
    assert position.amount == pytest.approx(b / 2)
    assert [(share.strategy_id, share.amount) for share in order.shares or []] == [
        (None, pytest.approx(OWN)),
        ("a", pytest.approx(a)),
        ("b", pytest.approx(b / 2)),
    ]
    # each part carries its share of the sell's fee, and its P&L is its owner's
    [fill] = await account.journal.fills(order_id=sold.order.id)
    after = {sid: await account.journal.strategy_ledger(account.book, sid) for sid in ("a", "b")}
    [trip] = [t for t in after["a"].round_trips if t.exit_ts == fill.ts]
    cost = before["a"].positions[BTC].cost
    assert trip.pnl - before["a"].positions[BTC].trip_realised == pytest.approx(
        a * fill.price - fill.fee * a / amount - cost
    )
    paid = {sid: after[sid].positions[BTC].fees - before[sid].positions[BTC].fees for sid in ("a", "b")}
    assert paid == {"a": pytest.approx(fill.fee * a / amount), "b": pytest.approx(fill.fee * b / 2 / amount)}


async def test_the_shares_survive_a_restart(trading: TradingEngine) -> None:
    """The strategies' positions are folded from the stored fills and shares, as a restarted daemon
    reads them (a new connection, nothing remembered)."""
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database
    from mastertrade.engine.execution.journal import Journal

    a, b = await _both(trading)
    async with trading.client() as client:
        await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=a + b / 4))
    await trading.bar(BTC, 3, 101.5, 102, 101, 101.8)  # the sell fills
    book = trading.trader.account.book

    db = await Database.open(load_settings())
    try:
        journal = Journal(db)
        ledgers = {sid: await journal.strategy_ledger(book, sid) for sid in ("a", "b")}
        held = (await journal.ledger(book)).held(BTC)
    finally:
        await db.close()
    assert BTC not in {p.symbol for p in ledgers["a"].open_positions()}
    [rest] = ledgers["b"].open_positions()
    assert rest.amount == pytest.approx(3 * b / 4) == pytest.approx(held)
