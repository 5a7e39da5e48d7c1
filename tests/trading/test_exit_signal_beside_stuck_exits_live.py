"""A live strategy's exit signal ("guarded", its stop and take-profit resting at the exchange as one OCO list:
``native_stops``) while the exchange will not take its resting exits back (the cancel fails), beside 0.01 BTC
the account bought by hand (no exits: free coins).

The exit sold the account's free coins: its exits still held all of "guarded"'s, so its sell found free only
the account's own, and it was booked as "guarded"'s (its position then counted what was the account's, the
account's own none). Now it sells only what its strategy holds beside its exits still resting (nothing while
they hold all of it) and tries again at the next prices, once the exits are taken back; a restart in between
changes nothing. After each step the strategy's position and the account's own add up to what is held.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from mastertrade.engine import events
from mastertrade.engine.execution.owed_exits import RETRY_S
from mastertrade.engine.execution.trader import Trader
from tests.fakes.exchange import Reply, binance_error
from tests.fakes.exchange_trading import DeskOrder, TradingExchange
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


def _cancels_fail(exchange: TradingExchange) -> None:
    """Every cancel fails (the orders themselves stay resting)."""
    failing = Reply(500, binance_error(-1001, "Internal error; unable to process your request."))
    exchange.route("DELETE", "/api/v3/order", lambda request: failing)
    exchange.route("DELETE", "/api/v3/orderList", lambda request: failing)


def _cancels_work(exchange: TradingExchange) -> None:
    exchange.route("DELETE", "/api/v3/order", exchange._cancel)
    exchange.route("DELETE", "/api/v3/orderList", exchange._cancel_list)


def _exit_sells(exchange: TradingExchange) -> list[DeskOrder]:
    return [o for o in exchange.placed if o.side == "SELL" and o.type == "MARKET"]


def _refused(desk: Desk) -> list[str]:
    return [event.reason for event in desk.events if isinstance(event, events.OrderRejected)]


async def _down_bar(desk: Desk, trader: Trader) -> None:
    """A bar closing under its open (the exit signal), above the stop (38,000): the exits keep resting."""
    await desk.close_bar(trader, 40_000.0, 40_100.0, 39_700.0, 39_800.0)


async def _later(desk: Desk, trader: Trader, price: float) -> None:
    """A price update once the exit's retry interval has passed."""
    desk.clock.offset += timedelta(seconds=RETRY_S + 1)
    await desk.tick(trader, price)


async def test_an_exit_signal_while_its_exits_cannot_be_taken_back_never_sells_the_accounts_own(
    desk: Desk,
) -> None:
    trader = await desk.run()
    await desk.close_bar(trader, 39_600.0, 40_040.0, 39_400.0, 40_000.0)  # the entry at 40,000
    guarded = await trader.account.strategy_holding("guarded", BTC)
    assert (await trader.account.place(BTC, "buy", OWN, live=True))["order"]["state"] == "filled"
    assert sorted(o.quantity for o in resting_exits(desk.exchange)) == pytest.approx([guarded, guarded])
    assert_owners(await held_by(trader), own=OWN, guarded=guarded)

    _cancels_fail(desk.exchange)
    await _down_bar(desk, trader)  # the exit signal: its exits cannot be taken back

    assert _exit_sells(desk.exchange) == [] and _refused(desk) == []
    assert desk.exchange.balance("BTC") == pytest.approx(guarded + OWN)
    assert_owners(await held_by(trader), own=OWN, guarded=guarded)
    assert [row.state for row in await desk.protections()] == ["active"]  # its exits still guard it

    await _later(desk, trader, 39_700.0)  # the next prices ask again: still no cancel
    assert _exit_sells(desk.exchange) == []
    assert_owners(await held_by(trader), own=OWN, guarded=guarded)

    restarted = await desk.run()  # a restart, the cancels failing still, changes nothing
    await _down_bar(desk, restarted)
    assert _exit_sells(desk.exchange) == [] and _refused(desk) == []
    assert_owners(await held_by(restarted), own=OWN, guarded=guarded)

    _cancels_work(desk.exchange)
    await desk.tick(restarted, 39_700.0)  # too soon after the last try: nothing asked yet
    assert _exit_sells(desk.exchange) == []
    await _later(desk, restarted, 39_600.0)  # the exits taken back, the exit sells the position

    [sold] = _exit_sells(desk.exchange)
    assert sold.quantity == pytest.approx(guarded) and sold.status == "FILLED"
    assert resting_exits(desk.exchange) == []
    assert desk.exchange.balance("BTC") == pytest.approx(OWN)
    assert_owners(await held_by(restarted), own=OWN)
    assert [row.state for row in await desk.protections()] == ["closed"]

    await _later(desk, restarted, 39_500.0)  # done: later prices sell nothing more
    again = await desk.run()
    await _down_bar(desk, again)
    assert len(_exit_sells(desk.exchange)) == 1 and _refused(desk) == []
    assert_owners(await held_by(again), own=OWN)


@pytest.fixture
def coin_fee_exchange() -> Any:
    """The desk taking a buy's fee in the coin bought (Binance without BNB)."""
    yield from open_desk(fee_asset="BTC")


async def test_beside_stuck_exits_a_remainder_under_one_lot_step_is_not_sold(
    database: Any, coin_fee_exchange: TradingExchange
) -> None:
    """At an exchange taking a buy's fee in the coin (Binance without BNB), the entry's 0.125 BTC brought in
    0.124875, whose exits cover 0.12487 (whole lot steps of 0.00001): the 0.000005 beside them is nothing the
    exchange takes. The exit signal sells nothing while they rest (no sell of it refused), and what the
    exits held once they are taken back."""
    exchange = coin_fee_exchange
    desk = Desk(database, exchange, native=True, stop_loss=0.05, take_profit=0.1)
    try:
        trader = await desk.run()
        await desk.close_bar(trader, 39_600.0, 40_040.0, 39_400.0, 40_000.0)  # the entry at 40,000
        guarded = await trader.account.strategy_holding("guarded", BTC)
        assert [o.quantity for o in resting_exits(exchange)] == [pytest.approx(0.12487)] * 2
        exchange.fee_asset = None  # a sell's fee is taken in the coin it brings in, USDT, as Binance does

        _cancels_fail(exchange)
        await _down_bar(desk, trader)
        await _later(desk, trader, 39_700.0)

        assert _exit_sells(exchange) == [] and _refused(desk) == []
        assert_owners(await held_by(trader), guarded=guarded)

        _cancels_work(exchange)
        await _later(desk, trader, 39_600.0)

        [sold] = _exit_sells(exchange)
        assert sold.quantity == pytest.approx(0.12487) and sold.status == "FILLED"
        assert resting_exits(exchange) == [] and _refused(desk) == []
        assert_owners(await held_by(trader), guarded=guarded - sold.quantity)
    finally:
        await desk.close()
