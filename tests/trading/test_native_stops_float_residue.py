"""A strategy's position whose size its sums leave a float residue under a lot step still gets exits (and
an exit sell) for the whole step amount.

The take-profit of 0.125 BTC filled 0.04 in part: the book holds 0.125 - 0.04, which floats make
0.08499999999999999. Its exits were placed again for that amount cut to the desk's 0.00001 lot step with
ccxt's ``amount_to_precision``, which truncates: 0.08499, so 0.00001 BTC was left without exits at the
exchange; the strategy's exit sold 0.08499 the same way and left it behind. A value a hair under a step
now counts as on it (``venue_steps.whole_steps``), never more than a hair above what is held.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.exchange_trading import DeskOrder, TradingExchange
from tests.trading.live_rig import open_desk
from tests.trading.test_live_protection import BTC, Desk

PART = 0.04
LEFT = 0.085
"""What 0.125 BTC less ``PART`` is at the exchange; as floats, 0.125 - 0.04 is 0.08499999999999999."""


@pytest.fixture
def exchange() -> Iterator[TradingExchange]:
    yield from open_desk()


def _new(exchange: TradingExchange, kind: str) -> list[DeskOrder]:
    return [o for o in exchange.placed if o.type == kind and o.status == "NEW"]


async def test_a_holding_a_float_hair_under_a_lot_step_gets_exits_and_an_exit_for_the_whole_step(
    database: Any, exchange: TradingExchange
) -> None:
    desk = Desk(database, exchange, native=True, stop_loss=0.05, take_profit=0.05)
    try:
        trader = await desk.run()
        buy = await desk.enter(trader)
        assert buy.executed == 0.125
        [take] = _new(exchange, "LIMIT_MAKER")
        exchange.fill_part(take.client_order_id, PART)

        await trader.housekeeping()  # the poll books the part; the protection places the pair again
        ledger = await trader.account.broker.ledger()
        assert ledger.held(BTC) == 0.125 - PART < LEFT  # the residue the exits are sized from
        [stop] = _new(exchange, "STOP_LOSS_LIMIT")
        [take2] = _new(exchange, "LIMIT_MAKER")
        assert stop.list_id == take2.list_id != take.list_id
        assert stop.quantity == take2.quantity == LEFT  # not 0.08499

        await desk.close_bar(trader, 40_000.0, 40_500.0, 39_800.0, 39_900.0)  # down bar: the exit signal
        [sell] = [o for o in exchange.placed if o.side == "SELL" and o.type == "MARKET"]
        assert sell.status == "FILLED" and sell.quantity == LEFT
        assert exchange.balance("BTC") == pytest.approx(0.0, abs=1e-9)  # no step left behind
        assert await trader.account.positions() == []
    finally:
        await desk.close()
