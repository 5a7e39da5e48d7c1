"""A strategy's exit signal beside other owners' exits in a paper symbol: strategy "a" (which exits on a
down bar) and strategy "k" (which never signals an exit), each with its stop-loss and take-profit resting
in the paper book, and the account's own coins bought by hand with --stop-loss/--take-profit.

"a"'s exit signal cancelled every bracket exit of the symbol before selling, "k"'s and the hand-bracketed
buy's too: those positions were left without a paper stop (for good, for the buy by hand; until "k"'s own
exit signal, for "k"), while live each strategy's exit takes back only its own. Now an exit signal
cancels only its strategy's exits; the others keep resting, sized as before, and still sell when their
levels are reached, also after a restart.
"""

from __future__ import annotations

import pytest

from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.engine.execution.strategies import StaticStrategies, TradedStrategy
from mastertrade.engine.signals.genome import parse_genome
from mastertrade.engine.signals.strategy import Strategy
from tests.trading.conftest import TradingEngine
from tests.trading.owners import assert_covered, assert_owners, exits_by_owner, owners
from tests.trading.test_service import BTC, UP_DOWN

OWN = 20.0
"""What the trader buys by hand, bracketed, beside the strategies' positions (the account's own coins)."""
NEVER = {"<": [{"price": "close"}, 1]}
"""An exit rule that never holds at these prices ("k" keeps its position until its exits sell it)."""


def traded(name: str, **rules: object) -> TradedStrategy:
    bare = {key: value for key, value in UP_DOWN.items() if key not in ("stop_loss", "size")}
    genome = parse_genome({**bare, "name": name, "size": 0.2, "stop_loss": 0.03, "take_profit": 0.1, **rules})
    return TradedStrategy(name, "active", Strategy.from_genome(genome))


@pytest.fixture
def trading_strategies() -> StaticStrategies:
    return StaticStrategies([traded("a"), traded("k", exit=NEVER)])


async def held_by(trading: TradingEngine) -> dict[str | None, float]:
    account = trading.trader.account
    return await owners(account.journal, account.book, BTC)


async def covered(trading: TradingEngine) -> dict[str | None, float]:
    account = trading.trader.account
    return await exits_by_owner(account.journal, account.book, BTC)


async def _three_positions(trading: TradingEngine) -> tuple[float, float]:
    """Both strategies' entries with their exits, then the account's own bracketed buy; what each
    strategy holds."""
    await trading.bar(BTC, 0, 100, 101, 99, 99.5)
    await trading.bar(BTC, 1, 99.5, 101, 99, 100.5)  # an up bar: the entry signals
    await trading.bar(BTC, 2, 100.5, 102, 100, 101.5)  # the entries fill; their exits arm
    account = trading.trader.account
    a, k = await account.strategy_holding("a", BTC), await account.strategy_holding("k", BTC)
    async with trading.client() as client:
        await client.place_order(
            OrderCreate(symbol=BTC, side="buy", amount=OWN, stop_loss=0.05, take_profit=0.1)
        )
    await trading.bar(BTC, 3, 101.5, 102, 101, 101.8)  # the account's own coins are bought; exits arm
    assert_owners(await held_by(trading), own=OWN, a=a, k=k)
    assert_covered(await covered(trading), own=OWN, a=a, k=k)
    return a, k


async def test_an_exit_signal_cancels_only_its_own_strategys_exits(trading: TradingEngine) -> None:
    a, k = await _three_positions(trading)
    before = {
        (o["strategy_id"], o["role"]): (o["stop_price"], o["price"])
        for o in await trading.trader.account.orders(open_only=True)
        if o["parent_id"] is not None
    }

    await trading.bar(BTC, 4, 101.8, 102, 100.5, 100.8)  # a down bar: "a"'s exit signal
    assert_covered(await covered(trading), own=OWN, k=k)  # only "a"'s exits went
    await trading.bar(BTC, 5, 100.8, 101, 100.2, 100.6)  # "a"'s exit fills

    exits = [o for o in await trading.trader.account.orders(limit=200) if o["role"] == "exit"]
    assert [(o["strategy_id"], o["filled"]) for o in exits] == [("a", pytest.approx(a))]
    assert_owners(await held_by(trading), own=OWN, k=k)
    assert_covered(await covered(trading), own=OWN, k=k)
    after = {
        (o["strategy_id"], o["role"]): (o["stop_price"], o["price"])
        for o in await trading.trader.account.orders(open_only=True)
        if o["parent_id"] is not None
    }
    assert after == {key: levels for key, levels in before.items() if key[0] != "a"}  # at their levels

    trading = await trading.restart()
    assert_owners(await held_by(trading), own=OWN, k=k)
    assert_covered(await covered(trading), own=OWN, k=k)

    await trading.bar(BTC, 6, 100.6, 100.6, 90.0, 91.0)  # a crash: both stops sell what they protect
    assert (await trading.trader.account.holdings()).get(BTC, 0.0) == 0.0
    assert_owners(await held_by(trading))
    assert_covered(await covered(trading))
