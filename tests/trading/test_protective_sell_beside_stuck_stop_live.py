"""A live strategy's protection ("guarded", its stop and take-profit resting at the exchange as one OCO list:
``native_stops``) reaching its stop while the exchange will not take its resting exits back (the cancel
fails), beside 0.01 BTC the account bought by hand (no exits: free coins).

The protection sold the account's free coins: its exits still held all of "guarded"'s, so the sell was capped
only by the coins free, which were the account's own, and it was booked as "guarded"'s (its position then
counted twice what was its own, the account's own none). Now it sells only what its strategy holds beside
its exits still resting: nothing while they hold all of it; it waits, and the next price, the exits taken
back, sells the position (a restart in between changes nothing).
"""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.engine.candle import Bar, Candle
from mastertrade.engine.execution.trader import PriceUpdate, Trader
from tests.fakes.exchange import Reply, binance_error
from tests.fakes.exchange_trading import TradingExchange
from tests.trading.live_rig import open_desk
from tests.trading.owners import assert_owners
from tests.trading.second_strategy import held_by, resting_exits
from tests.trading.test_live_protection import BTC, Desk

OWN = 0.01
"""What the trader bought by hand beside the strategy's position."""


@pytest.fixture
def exchange() -> Any:
    yield from open_desk()


@pytest.fixture
async def desk(database: Any, exchange: TradingExchange) -> Any:
    desk = Desk(database, exchange, native=True, stop_loss=0.05, take_profit=0.1)
    try:
        yield desk
    finally:
        await desk.close()


async def dipped(desk: Desk, trader: Trader, low: float, close: float) -> None:
    """A price update of the forming bar whose low reached ``low`` and which trades at ``close`` now (above
    the stop resting at the exchange, which it leaves resting)."""
    desk.exchange.set_price(BTC, close)
    bar = Bar(Candle(desk.ts, close, close, low, close), closed=False)
    await trader.on_price(PriceUpdate(BTC, "1h", bar, simulated=False))


async def protective_sells(trader: Trader) -> float:
    rows = await trader.account.journal.orders(book=trader.account.book, symbol=BTC)
    return sum(
        row.filled for row in rows if row.side == "sell" and row.role == "stop_loss" and row.type == "market"
    )


async def test_a_stop_reached_while_its_exits_cannot_be_taken_back_never_sells_the_accounts_own(
    desk: Desk,
) -> None:
    trader = await desk.run()
    await desk.close_bar(trader, 39_600.0, 40_040.0, 39_400.0, 40_000.0)  # the entry at 40,000
    account = trader.account
    guarded = await account.strategy_holding("guarded", BTC)
    assert (await account.place(BTC, "buy", OWN, live=True))["order"]["state"] == "filled"
    assert sorted(o.quantity for o in resting_exits(desk.exchange)) == pytest.approx([guarded, guarded])
    assert_owners(await held_by(trader), own=OWN, guarded=guarded)

    # the exits cannot be taken back: every cancel fails (the orders themselves stay resting)
    failing = Reply(500, binance_error(-1001, "Internal error; unable to process your request."))
    desk.exchange.route("DELETE", "/api/v3/order", lambda request: failing)
    desk.exchange.route("DELETE", "/api/v3/orderList", lambda request: failing)
    await dipped(desk, trader, 37_900.0, 38_500.0)  # the stop (38,000) reached; the exchange at 38,500

    assert await protective_sells(trader) == 0.0
    assert desk.exchange.balance("BTC") == pytest.approx(guarded + OWN)
    assert_owners(await held_by(trader), own=OWN, guarded=guarded)
    assert [row.state for row in await desk.protections()] == ["active"]  # it waits, still guarding

    restarted = await desk.run()  # a restart, the cancels failing still, changes nothing
    await dipped(desk, restarted, 37_800.0, 38_400.0)
    assert await protective_sells(restarted) == 0.0
    assert_owners(await held_by(restarted), own=OWN, guarded=guarded)

    desk.exchange.route("DELETE", "/api/v3/order", desk.exchange._cancel)  # the exchange takes cancels again
    desk.exchange.route("DELETE", "/api/v3/orderList", desk.exchange._cancel_list)
    await dipped(desk, restarted, 37_700.0, 38_300.0)  # the stop, still reached, sells the position

    assert await protective_sells(restarted) == pytest.approx(guarded)
    assert resting_exits(desk.exchange) == []
    assert desk.exchange.balance("BTC") == pytest.approx(OWN)
    assert_owners(await held_by(restarted), own=OWN)
    assert [row.state for row in await desk.protections()] == ["closed"]
    assert_owners(await held_by(await desk.run()), own=OWN)
