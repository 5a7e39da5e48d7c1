"""A live strategy's protection ("guarded", its exits resting at the exchange: ``native_stops``) ended by
those exits: its stop, or its take-profit (one OCO list with the stop), filling at the exchange and selling
the whole position, seen by the daemon's poll or by its next start.

The protection's close reason (``mt risk status``, the risk audit) read "the position was closed by its
strategy (exit signal)": the strategy had given no exit signal, the exchange had sold at the stop. It now
names the exit that sold, resting at the exchange, and what it sold at; a position its exit signal sold
still says so.
"""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.engine.execution.trader import Trader
from tests.fakes.exchange_trading import DeskOrder, TradingExchange
from tests.trading.live_rig import open_desk
from tests.trading.owners import assert_owners
from tests.trading.second_strategy import held_by, resting_exits
from tests.trading.test_live_protection import BTC, Desk


@pytest.fixture
def exchange() -> Any:
    yield from open_desk()


async def _entered(desk: Desk) -> tuple[Trader, float, list[DeskOrder]]:
    """ "guarded"'s entry at 40,000: the trader, what it holds, and its exits resting at the exchange."""
    trader = await desk.run()
    await desk.enter(trader)
    guarded = await trader.account.strategy_holding("guarded", BTC)
    exits = resting_exits(desk.exchange)
    assert exits and all(o.quantity == pytest.approx(guarded) for o in exits)
    assert_owners(await held_by(trader), guarded=guarded)
    return trader, guarded, exits


async def _closed_reason(desk: Desk) -> str:
    [record] = await desk.protections()
    assert record.state == "closed" and record.reason is not None
    return record.reason


async def test_a_stop_filling_at_the_exchange_closes_the_protection_naming_it(
    database: Any, exchange: TradingExchange
) -> None:
    desk = Desk(database, exchange, native=True, stop_loss=0.05)
    try:
        trader, _, [stop] = await _entered(desk)
        exchange.set_price(BTC, 37_900.0)  # the exchange fires the stop
        assert stop.status == "FILLED"
        await trader.housekeeping()  # the poll books its fill

        reason = await _closed_reason(desk)
        row = await trader.account.journal.get(client_order_id=stop.client_order_id)
        assert "exit signal" not in reason
        assert f"stop-loss order {row.id}" in reason and "at the exchange" in reason
        assert "37900" in reason
        assert_owners(await held_by(trader))
    finally:
        await desk.close()


async def test_a_take_profit_filling_while_the_daemon_is_down_is_named_at_the_next_start(
    database: Any, exchange: TradingExchange
) -> None:
    desk = Desk(database, exchange, native=True, stop_loss=0.05, take_profit=0.1)
    try:
        trader, _, exits = await _entered(desk)
        [take] = [o for o in exits if o.type == "LIMIT_MAKER"]
        await trader.close()  # the daemon stops
        exchange.set_price(BTC, 44_100.0)  # the exchange takes the profit
        assert take.status == "FILLED"

        restarted = await desk.run()
        reason = await _closed_reason(desk)
        row = await restarted.account.journal.get(client_order_id=take.client_order_id)
        assert "exit signal" not in reason
        assert f"take-profit order {row.id}" in reason and "at the exchange" in reason
        assert "44000" in reason
        assert_owners(await held_by(restarted))
    finally:
        await desk.close()


async def test_a_position_its_exit_signal_sold_still_says_so(
    database: Any, exchange: TradingExchange
) -> None:
    desk = Desk(database, exchange, native=True, stop_loss=0.05)
    try:
        trader, _, _ = await _entered(desk)
        await desk.close_bar(trader, 40_000.0, 40_100.0, 39_700.0, 39_800.0)  # the exit signal

        reason = await _closed_reason(desk)
        assert "exit signal" in reason and "at the exchange" not in reason
        assert_owners(await held_by(trader))
    finally:
        await desk.close()
