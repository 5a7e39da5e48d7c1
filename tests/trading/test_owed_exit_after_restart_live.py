"""A live strategy's exit signal owed across a restart ("guarded", its stop and take-profit resting at the
exchange as one OCO list: ``native_stops``), beside 0.01 BTC the account bought by hand (free coins).

The exit signal fired while the exchange would not take the exits back (the cancel failed): nothing was
sold, and the exit was owed, tried again at the next prices (``owed_exits``). It was kept in memory only:
after a restart the strategy, whose exit signal had fired, kept holding its position until its next exit
signal or a protection level, though the exchange took cancels again. Now the owed exit is in the journal
(``owed_exits``) and the next start resumes it: the first prices take the exits back and sell. One the
exits paid meanwhile (they filled at the exchange while the daemon was down) sells nothing more. After each
step the strategy's position and the account's own add up to what is held.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from mastertrade.db.models.protection import OwedExitRecord
from mastertrade.engine import events
from mastertrade.engine.execution.owed_exits import RETRY_S
from mastertrade.engine.execution.trader import Trader
from tests.fakes.exchange_trading import DeskOrder, TradingExchange
from tests.trading.live_rig import open_desk
from tests.trading.owners import assert_owners
from tests.trading.second_strategy import held_by, resting_exits
from tests.trading.test_exit_signal_beside_stuck_exits_live import _cancels_fail, _cancels_work
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


def _exit_sells(exchange: TradingExchange) -> list[DeskOrder]:
    return [o for o in exchange.placed if o.side == "SELL" and o.type == "MARKET"]


async def _owed(desk: Desk) -> list[tuple[str, str]]:
    """The owed exits the journal keeps: (strategy, symbol)."""
    async with desk.db.sessions() as session:
        rows = (await session.exec(select(OwedExitRecord))).all()
    return [(row.strategy_id, row.symbol) for row in rows]


async def _owing(desk: Desk) -> tuple[Trader, float]:
    """ "guarded"'s entry at 40,000, 0.01 bought by hand, then its exit signal while the exchange fails
    every cancel: nothing sold, the exit owed."""
    trader = await desk.run()
    await desk.close_bar(trader, 39_600.0, 40_040.0, 39_400.0, 40_000.0)  # the entry at 40,000
    guarded = await trader.account.strategy_holding("guarded", BTC)
    assert (await trader.account.place(BTC, "buy", OWN, live=True))["order"]["state"] == "filled"
    _cancels_fail(desk.exchange)
    await desk.close_bar(trader, 40_000.0, 40_100.0, 39_700.0, 39_800.0)  # the exit signal, above the stop
    assert _exit_sells(desk.exchange) == []
    assert_owners(await held_by(trader), own=OWN, guarded=guarded)
    assert await _owed(desk) == [("guarded", BTC)]
    return trader, guarded


async def test_an_exit_owed_before_a_restart_sells_once_the_exits_are_taken_back(desk: Desk) -> None:
    trader, guarded = await _owing(desk)
    await trader.close()  # the daemon stops, the exit owed

    restarted = await desk.run()  # the cancels failing still: the first prices try, nothing sold
    desk.clock.offset += timedelta(seconds=RETRY_S + 1)
    await desk.tick(restarted, 39_700.0)
    assert _exit_sells(desk.exchange) == []
    assert_owners(await held_by(restarted), own=OWN, guarded=guarded)
    assert await _owed(desk) == [("guarded", BTC)]

    again = await desk.run()  # a second restart; the exchange takes cancels again
    _cancels_work(desk.exchange)
    await desk.tick(again, 39_600.0)  # no exit signal since: the owed exit sells at the first price

    [sold] = _exit_sells(desk.exchange)
    assert sold.quantity == pytest.approx(guarded) and sold.status == "FILLED"
    assert resting_exits(desk.exchange) == []
    assert desk.exchange.balance("BTC") == pytest.approx(OWN)
    assert_owners(await held_by(again), own=OWN)
    assert [row.state for row in await desk.protections()] == ["closed"]
    assert await _owed(desk) == []
    assert not [event for event in desk.events if isinstance(event, events.OrderRejected)]

    last = await desk.run()  # paid: a later start sells nothing more
    desk.clock.offset += timedelta(seconds=RETRY_S + 1)
    await desk.tick(last, 39_500.0)
    assert len(_exit_sells(desk.exchange)) == 1
    assert_owners(await held_by(last), own=OWN)


async def test_an_exit_owed_that_its_resting_stop_paid_meanwhile_sells_nothing_more(desk: Desk) -> None:
    trader, _ = await _owing(desk)
    await trader.close()  # the daemon stops, the exit owed
    desk.exchange.set_price(BTC, 37_900.0)  # the exchange fires the stop: the position is sold
    [stop] = [o for o in desk.exchange.placed if o.type == "STOP_LOSS_LIMIT"]
    assert stop.status == "FILLED"
    _cancels_work(desk.exchange)

    restarted = await desk.run()
    await desk.tick(restarted, 37_900.0)

    assert _exit_sells(desk.exchange) == []  # nothing sold beside the stop, of the account's own
    assert desk.exchange.balance("BTC") == pytest.approx(OWN)
    assert_owners(await held_by(restarted), own=OWN)
    assert await _owed(desk) == []
    assert [row.state for row in await desk.protections()] == ["closed"]
