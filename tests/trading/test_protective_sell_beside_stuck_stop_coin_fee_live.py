"""A live strategy's protection ("guarded", its stop and take-profit resting at the exchange as one OCO list)
reaching its stop while the exchange will not take its resting exits back (the cancel fails), at an exchange
that takes a buy's fee in the coin bought (Binance without BNB): the entry's 0.125 BTC brought in 0.124875,
and its exits cover 0.12487, the whole lot steps of it (0.00001 each), leaving 0.000005 beside them.

The protection, selling what the strategy holds beside its exits still resting, tried to sell those 0.000005,
under one lot step: refused before it was sent, which it took for nothing left to sell, and it ended. The
daemon no longer watched the position (no take-profit or trailing level kept, the exits orphaned once the
exchange took cancels again). Now a remainder under one lot step beside exits still resting is nothing to
sell: it waits, still guarding, and the next price, the exits taken back, sells the position (a restart in
between changes nothing).
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

FEE = 0.001
"""The desk's fee, taken here in the coin a buy brings in."""
OWN = 0.01
"""What the trader bought by hand beside the strategy's position (``OWN * (1 - FEE)`` held)."""


@pytest.fixture
def exchange() -> Any:
    yield from open_desk(fee_asset="BTC")  # from the sells on, in USDT (``fee_asset`` reset)


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


async def test_a_stop_reached_beside_stuck_exits_with_a_remainder_under_one_lot_step_keeps_guarding(
    desk: Desk,
) -> None:
    trader = await desk.run()
    await desk.close_bar(trader, 39_600.0, 40_040.0, 39_400.0, 40_000.0)  # the entry at 40,000
    account = trader.account
    guarded = await account.strategy_holding("guarded", BTC)
    own = OWN * (1 - FEE)
    assert guarded == pytest.approx(0.125 * (1 - FEE))
    assert (await account.place(BTC, "buy", OWN, live=True))["order"]["state"] == "filled"
    covered = [o.quantity for o in resting_exits(desk.exchange)]
    assert covered == [pytest.approx(0.12487)] * 2  # whole lot steps: 0.000005 beside them
    assert_owners(await held_by(trader), own=own, guarded=guarded)
    desk.exchange.fee_asset = None  # a sell's fee is taken in the coin it brings in, USDT, as Binance does

    failing = Reply(500, binance_error(-1001, "Internal error; unable to process your request."))
    desk.exchange.route("DELETE", "/api/v3/order", lambda request: failing)
    desk.exchange.route("DELETE", "/api/v3/orderList", lambda request: failing)
    await dipped(desk, trader, 37_900.0, 38_500.0)  # the stop (38,000) reached; the exchange at 38,500

    assert await protective_sells(trader) == 0.0
    assert [row.state for row in await desk.protections()] == ["active"]  # it waits, still guarding
    assert_owners(await held_by(trader), own=own, guarded=guarded)

    restarted = await desk.run()  # a restart, the cancels failing still, changes nothing
    await dipped(desk, restarted, 37_800.0, 38_400.0)
    assert await protective_sells(restarted) == 0.0
    assert [row.state for row in await desk.protections()] == ["active"]
    assert_owners(await held_by(restarted), own=own, guarded=guarded)

    desk.exchange.route("DELETE", "/api/v3/order", desk.exchange._cancel)  # the exchange takes cancels again
    desk.exchange.route("DELETE", "/api/v3/orderList", desk.exchange._cancel_list)
    await dipped(desk, restarted, 37_700.0, 38_300.0)  # the stop, still reached, sells the position

    sold = await protective_sells(restarted)
    assert sold == pytest.approx(0.12487)
    assert resting_exits(desk.exchange) == []
    assert desk.exchange.balance("BTC") == pytest.approx(own + guarded - sold)
    assert_owners(await held_by(restarted), own=own, guarded=guarded - sold)
    await dipped(desk, restarted, 37_600.0, 38_200.0)  # the 0.000005 left: nothing the exchange takes
    assert [row.state for row in await desk.protections()] == ["closed"]
    assert await protective_sells(restarted) == pytest.approx(sold)
    assert_owners(await held_by(await desk.run()), own=own, guarded=guarded - sold)
