"""A strategy's exit signal while a sell by hand taking several owners' coins still rests (a paper limit
sell above the market): a paper symbol held by the account (50 BTC bought by hand) and two active
strategies without exits ("a" and "b": nothing reserves their coins).

The sell takes the account's own coins, all of "a"'s and half of "b"'s. Each strategy's exit asked for
all its own fills held, coins that sell has promised: "a"'s, asking for all of its, was resized by the
risk check to the only free coins, "b"'s half, and booked as "a"'s (so once the sell filled "a" held less
than nothing and "b" counted coins the account no longer had); "b"'s then found nothing free and was
refused. Now each exit asks for what its strategy keeps once the sells by hand on their way have taken
their shares: "a"'s sells nothing (its coins are the sell's, which is not refused) and "b"'s sells its
half. Once the sell by hand is cancelled, each strategy's next exit sells what it then holds.
"""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.engine import events
from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.engine.execution.strategies import StaticStrategies, TradedStrategy
from mastertrade.engine.execution.strategy_orders import exit_request
from mastertrade.engine.signals.genome import parse_genome
from mastertrade.engine.signals.strategy import Strategy
from tests.trading.conftest import TradingEngine
from tests.trading.owners import assert_owners, owners
from tests.trading.test_service import BTC, UP_DOWN

OWN = 50.0
"""What the trader buys by hand beside the strategies' positions (the account's own coins)."""
LIMIT = 150.0
"""Where the sell by hand rests: far above the market, so it never fills in these tests."""


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


async def held_by(trading: TradingEngine) -> dict[str | None, float]:
    account = trading.trader.account
    return await owners(account.journal, account.book, BTC)


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


async def _resting(trading: TradingEngine) -> tuple[float, float, dict[str, Any]]:
    """Both strategies' entries, the account's own coins, then a limit sell by hand resting above the
    market taking the account's own, all of "a"'s and half of "b"'s; what each strategy held, and the
    sell."""
    await trading.bar(BTC, 0, 100, 101, 99, 99.5)
    await trading.bar(BTC, 1, 99.5, 101, 99, 100.5)  # an up bar: the entry signals
    await trading.bar(BTC, 2, 100.5, 102, 100, 101.5)  # the entries fill
    account = trading.trader.account
    a, b = await account.strategy_holding("a", BTC), await account.strategy_holding("b", BTC)
    async with trading.client() as client:
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=OWN))
        await trading.bar(BTC, 3, 101.5, 102, 101, 101.8)  # the account's own coins are bought
        sell = await client.place_order(
            OrderCreate(symbol=BTC, side="sell", amount=OWN + a + b / 2, type="limit", price=LIMIT)
        )
    assert sell.order.state == "open"
    assert [(share.strategy_id, share.amount) for share in sell.order.shares or []] == [
        (None, pytest.approx(OWN)),
        ("a", pytest.approx(a)),
        ("b", pytest.approx(b / 2)),
    ]
    assert_owners(await held_by(trading), own=OWN, a=a, b=b)
    return a, b, sell.order.model_dump()


def _refusals(trading: TradingEngine) -> list[str]:
    """The strategies' orders refused so far (by the risk check, or before it)."""
    return [event.reason for event in trading.events if isinstance(event, events.OrderRejected)]


async def _exits(trading: TradingEngine) -> dict[str | None, float]:
    """What the strategies' exit signals sold, by strategy."""
    sold: dict[str | None, float] = {}
    for order in await trading.trader.account.orders(limit=200):
        if order["role"] == "exit":
            sold[order["strategy_id"]] = sold.get(order["strategy_id"], 0.0) + order["filled"]
    return sold


async def test_each_exit_sells_what_its_strategy_keeps_beside_the_resting_sell(
    trading: TradingEngine,
) -> None:
    a, b, sell = await _resting(trading)

    await trading.bar(BTC, 4, 101.8, 102, 100.5, 100.8)  # a down bar: both exit signals
    await trading.bar(BTC, 5, 100.8, 101, 100.2, 100.6)  # "b"'s exit fills; still down

    assert _refusals(trading) == []
    assert await _exits(trading) == {"b": pytest.approx(b / 2)}
    assert_owners(await held_by(trading), own=OWN, a=a, b=b / 2)  # what the resting sell still takes
    assert_owners(await _restarted(trading.trader.account.book), own=OWN, a=a, b=b / 2)
    assert (await trading.trader.account.journal.get(sell["id"])).state == "open"


async def test_after_the_sell_by_hand_is_cancelled_the_next_exit_sells_what_is_held(
    trading: TradingEngine,
) -> None:
    a, b, sell = await _resting(trading)
    await trading.bar(BTC, 4, 101.8, 102, 100.5, 100.8)  # a down bar: both exit signals
    await trading.bar(BTC, 5, 100.8, 101, 100.2, 100.6)  # "b"'s exit fills

    async with trading.client() as client:
        cancelled = await client.cancel_order(sell["id"])
    assert cancelled.state == "cancelled"
    assert_owners(await held_by(trading), own=OWN, a=a, b=b / 2)  # nothing promised any more

    await trading.bar(BTC, 6, 100.6, 100.9, 100.1, 100.3)  # down again: the exits of what is held
    await trading.bar(BTC, 7, 100.3, 100.5, 100.0, 100.2)  # they fill

    assert _refusals(trading) == []
    assert await _exits(trading) == {"a": pytest.approx(a), "b": pytest.approx(b)}
    assert_owners(await held_by(trading), own=OWN)
    assert await trading.trader.account.strategy_holding("a", BTC) == 0.0
    assert await trading.trader.account.strategy_holding("b", BTC) == 0.0
    assert (await trading.trader.account.holdings())[BTC] == pytest.approx(OWN)
    assert_owners(await _restarted(trading.trader.account.book), own=OWN)


async def test_an_exit_sized_before_the_sell_by_hand_is_checked_against_what_its_strategy_keeps(
    trading: TradingEngine,
) -> None:
    """An exit sized on all its strategy held, sent once the sell by hand has promised its coins (a sell by
    hand placed between the two): the check, under the sells' lock, lets it sell only what its strategy
    keeps, never the other owners' free coins."""
    a, b, _ = await _resting(trading)
    account = trading.trader.account
    ts = account.placed_ts(BTC)

    a_exit, a_decision = await account.send(
        exit_request(BTC, a, 101.0, strategy_id="a"), 101.0, ts, strategy_id="a"
    )
    b_exit, b_decision = await account.send(
        exit_request(BTC, b, 101.0, strategy_id="b"), 101.0, ts, strategy_id="b"
    )

    assert a_exit is None and a_decision.verdict == "reject"  # all "a"'s coins are the sell's
    assert b_exit is not None and b_decision.amount == pytest.approx(b / 2)  # "b"'s rest
    await trading.bar(BTC, 4, 101.8, 102.5, 101.5, 102.2)  # it fills (an up bar: no exit signal)
    assert_owners(await held_by(trading), own=OWN, a=a, b=b / 2)
