"""A live strategy's full exit at an exchange that takes a buy's fee in the coin bought (Binance without
BNB): the entry's 0.125 BTC brought in 0.124875, and a sell takes whole lot steps of 0.00001, so the exit
sold 0.12487 and left 0.000005 BTC, under one lot step (and worth far less than the 5 USDT minimum notional):
no sell can take it.

That remainder stayed the strategy's open position: every later exit signal tried to sell it and was
refused before it was sent (an error, a refused order in the risk audit and an alert, at every down bar),
its protection kept guarding it, its round trip never closed (its live record missed the trade), and, the
strategy counting as long, its entry signals were ignored for ever. Now a remainder under the exchange's
minimum closes the round trip, as the paper book's float dust does (``ledger.DUST``): the strategy is flat,
its exit signals sell nothing, its protection closes saying the dust is left, and its next entry buys
again; the dust stays in the balance and in the strategy's share of what is held, and its next exit sells
it with the new position. After each step, and after a restart, the strategy's position and the account's
own add up to what is held.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from mastertrade.db.models.trading import FillRecord
from mastertrade.engine import events
from mastertrade.engine.execution.trader import Trader
from tests.fakes.exchange_trading import DeskOrder, TradingExchange
from tests.trading.live_rig import open_desk
from tests.trading.owners import assert_owners
from tests.trading.second_strategy import held_by, resting_exits
from tests.trading.test_live_protection import BTC, Desk

STEP = 0.00001
"""The desk's lot step of BTC/USDT."""


@pytest.fixture
def exchange() -> Any:
    yield from open_desk(fee_asset="BTC")  # a buy's fee in the coin bought; sells' in USDT (reset below)


@pytest.fixture
async def desk(database: Any, exchange: TradingExchange) -> Any:
    desk = Desk(database, exchange, native=True, stop_loss=0.05, take_profit=0.1)
    try:
        yield desk
    finally:
        await desk.close()


def _exit_sells(exchange: TradingExchange) -> list[DeskOrder]:
    return [o for o in exchange.placed if o.side == "SELL" and o.type == "MARKET"]


def _refused(desk: Desk) -> list[str]:
    return [event.reason for event in desk.events if isinstance(event, events.OrderRejected)]


async def _down_bar(desk: Desk, trader: Trader) -> None:
    """A bar closing under its open (the exit signal), above any stop."""
    await desk.close_bar(trader, 40_000.0, 40_100.0, 39_700.0, 39_800.0)


async def _up_bar(desk: Desk, trader: Trader) -> None:
    """A bar closing over its open (the entry signal) at 40,000."""
    desk.exchange.fee_asset = "BTC"  # the buy's fee in the coin bought
    await desk.close_bar(trader, 39_600.0, 40_040.0, 39_400.0, 40_000.0)
    desk.exchange.fee_asset = None  # a sell's in USDT, as Binance does


async def _trips(trader: Trader) -> int:
    return len((await trader.account.journal.strategy_ledger(trader.account.book, "guarded")).round_trips)


async def test_a_remainder_under_the_exchanges_minimum_closes_the_round_trip(desk: Desk) -> None:
    trader = await desk.run()
    await _up_bar(desk, trader)  # the entry at 40,000
    guarded = await trader.account.strategy_holding("guarded", BTC)
    assert guarded == pytest.approx(0.124875)
    assert [o.quantity for o in resting_exits(desk.exchange)] == [pytest.approx(0.12487)] * 2

    await _down_bar(desk, trader)  # the exit signal: its exits taken back, whole lot steps sold

    [sold] = _exit_sells(desk.exchange)
    assert sold.quantity == pytest.approx(0.12487) and sold.status == "FILLED"
    dust = guarded - sold.quantity
    assert desk.exchange.balance("BTC") == pytest.approx(dust)
    assert await trader.account.strategy_holding("guarded", BTC) == 0.0  # flat: nothing it can sell
    assert await _trips(trader) == 1  # its round trip closed
    assert await trader.account.positions() == []  # no open position in the account either
    assert_owners(await held_by(trader), guarded=dust)  # the dust still counted as held, the strategy's
    [record] = await desk.protections()
    assert record.state == "closed" and record.reason is not None
    assert "exit signal" in record.reason and "dust" in record.reason

    for _ in range(2):  # later exit signals: nothing sent, nothing refused
        await _down_bar(desk, trader)
    restarted = await desk.run()
    await _down_bar(desk, restarted)
    assert len(_exit_sells(desk.exchange)) == 1 and _refused(desk) == []
    assert await _trips(restarted) == 1
    assert_owners(await held_by(restarted), guarded=dust)

    await _up_bar(desk, restarted)  # flat: its entry signal buys again, the dust joins the position
    [_, second] = [o for o in desk.exchange.placed if o.side == "BUY"]
    assert second.status == "FILLED"
    held = await restarted.account.strategy_holding("guarded", BTC)
    assert held == pytest.approx(dust + second.quantity * (1 - 0.001))
    whole = int(held / STEP + 1e-6) * STEP
    assert [o.quantity for o in resting_exits(desk.exchange)] == [pytest.approx(whole)] * 2

    await _down_bar(desk, restarted)  # its exit sells the dust with the new position
    [_, sold_again] = _exit_sells(desk.exchange)
    assert sold_again.quantity == pytest.approx(whole) and sold_again.status == "FILLED"
    assert await restarted.account.strategy_holding("guarded", BTC) == 0.0
    assert await _trips(restarted) == 2
    assert_owners(await held_by(restarted), guarded=held - whole)
    assert desk.exchange.balance("BTC") == pytest.approx(held - whole)
    assert _refused(desk) == []
    assert_owners(await held_by(await desk.run()), guarded=held - whole)


async def test_dust_left_before_fills_kept_the_minimum_is_said_once_and_never_sent(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    """A journal from before the fills kept the exchange's minimum: the dust stays the strategy's open
    position. Its exit signals send nothing (no refused order, no alert), and it is said once."""
    trader = await desk.run()
    await _up_bar(desk, trader)
    guarded = await trader.account.strategy_holding("guarded", BTC)
    await _down_bar(desk, trader)
    [sold] = _exit_sells(desk.exchange)
    dust = guarded - sold.quantity
    async with desk.db.sessions() as session:  # as a journal written before the minimum was kept
        await session.exec(update(FillRecord).values(minimum=None))
        await session.commit()

    restarted = await desk.run()
    assert await restarted.account.strategy_holding("guarded", BTC) == pytest.approx(dust)
    caplog.clear()
    for _ in range(3):
        await _down_bar(desk, restarted)

    assert len(_exit_sells(desk.exchange)) == 1 and _refused(desk) == []
    said = [r.getMessage() for r in caplog.records if "less than the exchange takes" in r.getMessage()]
    assert len(said) == 1 and "nothing sent" in said[0]
    assert_owners(await held_by(restarted), guarded=dust)
