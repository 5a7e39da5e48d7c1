"""A live strategy's protection ("guarded", its stop and take-profit resting at the exchange as one OCO list:
``native_stops``) reaching its stop, beside 0.01 BTC the account bought by hand, while its exits, which it
takes back before it sells, ended at the exchange a moment before: the cancel answers "unknown order"
(Binance -2011, ``ccxt.OrderNotFound``).

The rule of the money paths: in doubt, ask the exchange by client order id; never resend on a guess, never
drop a fill, never sell the coins twice. So the cancel's "unknown order" is no answer by itself: the exits are
looked up by their client ids, and

- one that **filled** (its stop sold the position just before the cancel) is booked once, as the
  strategy's, and nothing more is sold: not the account's own coins, not the position a second time;
- exits **cancelled elsewhere** (on the exchange's website, say) without a fill free the strategy's coins,
  and the protection sells what the strategy holds, once;
- while the exchange cannot be asked (the lookup fails), nothing is sold: the exits may have sold the
  position; a restart, the exchange answering again, books their fill, once, and sells nothing.

Each step keeps the book's invariant: the strategies' positions and the account's own add up to what is
held (``owners``), also after a restart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mastertrade.engine.candle import Bar, Candle
from mastertrade.engine.execution.trader import PriceUpdate, Trader
from tests.fakes.exchange import Recorded, Reply, binance_error
from tests.fakes.exchange_trading import DeskOrder, TradingExchange
from tests.trading.live_rig import open_desk
from tests.trading.owners import assert_owners
from tests.trading.second_strategy import held_by, resting_exits
from tests.trading.test_live_protection import BTC, Desk

OWN = 0.01
"""What the trader bought by hand beside the strategy's position."""
STOP_FILLS = 37_900.0
"""A price under the stop (38,000) and above its limit (37,620): the resting stop triggers and fills."""


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


async def _guarded(desk: Desk) -> tuple[Trader, float]:
    """ "guarded"'s entry at 40,000 (its OCO list resting), then 0.01 bought by hand: the trader, and what
    the strategy holds."""
    trader = await desk.run()
    await desk.close_bar(trader, 39_600.0, 40_040.0, 39_400.0, 40_000.0)
    guarded = await trader.account.strategy_holding("guarded", BTC)
    assert (await trader.account.place(BTC, "buy", OWN, live=True))["order"]["state"] == "filled"
    assert sorted(o.quantity for o in resting_exits(desk.exchange)) == pytest.approx([guarded, guarded])
    assert_owners(await held_by(trader), own=OWN, guarded=guarded)
    return trader, guarded


def _before_the_cancel(exchange: TradingExchange, happen: Callable[[], None]) -> list[Reply]:
    """The exchange's exits end by ``happen`` just before the first cancel of them arrives; the cancel is
    then answered as the exchange answers it. Returns the cancels' answers."""
    answers: list[Reply] = []

    def cancel(request: Recorded) -> Reply:
        if not answers:
            happen()
        answers.append(exchange._cancel(request))
        return answers[-1]

    exchange.route("DELETE", "/api/v3/order", cancel)
    return answers


async def _dips(desk: Desk, trader: Trader, low: float) -> None:
    """A price update of the forming bar that reached ``low`` (the stop, 38,000, at most)."""
    bar = Bar(Candle(desk.ts, 38_500.0, 38_500.0, low, low), closed=False)
    await trader.on_price(PriceUpdate(BTC, "1h", bar, simulated=False))


def _market_sells(exchange: TradingExchange) -> list[DeskOrder]:
    return [o for o in exchange.placed if o.side == "SELL" and o.type == "MARKET"]


async def _stop_fills(trader: Trader) -> list[float]:
    """The fills booked of the strategy's stop resting at the exchange (its market sells aside)."""
    journal = trader.account.journal
    rows = await journal.orders(book=trader.account.book, symbol=BTC)
    stops = [
        row for row in rows if row.side == "sell" and row.type == "stop" and row.strategy_id == "guarded"
    ]
    return [
        fill.amount for row in stops if row.id is not None for fill in await journal.fills(order_id=row.id)
    ]


def _unknown_order(answer: Reply) -> bool:
    return answer.status == 400 and answer.body.get("code") == -2011


async def test_an_exit_that_filled_just_before_the_cancel_is_booked_once_and_nothing_more_is_sold(
    desk: Desk,
) -> None:
    trader, guarded = await _guarded(desk)
    [stop] = [o for o in resting_exits(desk.exchange) if o.type == "STOP_LOSS_LIMIT"]
    answers = _before_the_cancel(desk.exchange, lambda: desk.exchange.set_price(BTC, STOP_FILLS))

    await _dips(desk, trader, STOP_FILLS)  # the protection's stop reached: it takes its exits back

    assert answers and all(_unknown_order(answer) for answer in answers)
    assert stop.status == "FILLED"
    assert _market_sells(desk.exchange) == []  # never the position a second time, nor the account's own
    assert await _stop_fills(trader) == [pytest.approx(guarded)]
    assert desk.exchange.balance("BTC") == pytest.approx(OWN)
    assert_owners(await held_by(trader), own=OWN)
    assert [row.state for row in await desk.protections()] == ["closed"]

    await _dips(desk, trader, 37_800.0)  # later prices and polls change nothing
    await trader.account.poll()
    restarted = await desk.run()
    await _dips(desk, restarted, 37_700.0)
    assert _market_sells(desk.exchange) == []
    assert await _stop_fills(restarted) == [pytest.approx(guarded)]
    assert_owners(await held_by(restarted), own=OWN)


async def test_exits_cancelled_elsewhere_just_before_the_cancel_free_the_position_which_is_sold_once(
    desk: Desk,
) -> None:
    trader, guarded = await _guarded(desk)
    [stop] = [o for o in resting_exits(desk.exchange) if o.type == "STOP_LOSS_LIMIT"]
    answers = _before_the_cancel(desk.exchange, lambda: desk.exchange.cancel_by_hand(stop.client_order_id))
    desk.exchange.set_price(BTC, 38_500.0)  # the exchange trades above the stop: it rests untriggered

    await _dips(desk, trader, 37_900.0)  # the protection's stop reached: it takes its exits back

    assert answers and all(_unknown_order(answer) for answer in answers)
    [sold] = _market_sells(desk.exchange)
    assert sold.quantity == pytest.approx(guarded) and sold.status == "FILLED"
    assert await _stop_fills(trader) == []
    assert resting_exits(desk.exchange) == []
    assert desk.exchange.balance("BTC") == pytest.approx(OWN)
    assert_owners(await held_by(trader), own=OWN)
    assert [row.state for row in await desk.protections()] == ["closed"]

    await _dips(desk, trader, 37_800.0)  # later prices, polls and a restart sell nothing more
    await trader.account.poll()
    restarted = await desk.run()
    await restarted.account.poll()
    await _dips(desk, restarted, 37_700.0)
    assert len(_market_sells(desk.exchange)) == 1
    assert resting_exits(desk.exchange) == []  # not placed again: the cancel was MasterTrade's
    assert_owners(await held_by(restarted), own=OWN)


async def test_while_the_exchange_cannot_say_how_the_exit_ended_nothing_is_sold_and_a_restart_books_it(
    desk: Desk,
) -> None:
    trader, guarded = await _guarded(desk)
    [stop] = [o for o in resting_exits(desk.exchange) if o.type == "STOP_LOSS_LIMIT"]
    answers = _before_the_cancel(desk.exchange, lambda: desk.exchange.set_price(BTC, STOP_FILLS))
    failing = Reply(500, binance_error(-1001, "Internal error; unable to process your request."))
    desk.exchange.route("GET", "/api/v3/order", lambda request: failing)  # no lookup answers

    await _dips(desk, trader, STOP_FILLS)
    await _dips(desk, trader, 37_800.0)  # asked again at the next price: still no answer

    assert answers and all(_unknown_order(answer) for answer in answers)
    assert stop.status == "FILLED"  # at the exchange; the daemon cannot know it yet
    assert _market_sells(desk.exchange) == []  # the exits may have sold it: nothing sold on a guess
    assert_owners(await held_by(trader), own=OWN, guarded=guarded)
    assert [row.state for row in await desk.protections()] == ["active"]

    desk.exchange.route("GET", "/api/v3/order", desk.exchange._query)  # the exchange answers again
    restarted = await desk.run()
    await _dips(desk, restarted, 37_700.0)
    await restarted.account.poll()

    assert _market_sells(desk.exchange) == []
    assert await _stop_fills(restarted) == [pytest.approx(guarded)]
    assert desk.exchange.balance("BTC") == pytest.approx(OWN)
    assert_owners(await held_by(restarted), own=OWN)
    assert [row.state for row in await desk.protections()] == ["closed"]
    assert_owners(await held_by(await desk.run()), own=OWN)


async def test_an_exit_signal_whose_stop_filled_just_before_the_cancel_books_it_once_and_sells_nothing(
    desk: Desk,
) -> None:
    """The strategy's exit signal takes its exits back the same way: a stop that sold the position just
    before (at the exchange; the daemon's bar did not reach it) is booked, and the exit sells nothing."""
    trader, guarded = await _guarded(desk)
    [stop] = [o for o in resting_exits(desk.exchange) if o.type == "STOP_LOSS_LIMIT"]
    answers = _before_the_cancel(desk.exchange, lambda: desk.exchange.set_price(BTC, STOP_FILLS))

    await desk.close_bar(trader, 40_000.0, 40_100.0, 39_700.0, 39_800.0)  # a down bar: the exit signal

    assert answers and all(_unknown_order(answer) for answer in answers)
    assert stop.status == "FILLED"
    assert _market_sells(desk.exchange) == []
    assert await _stop_fills(trader) == [pytest.approx(guarded)]
    assert desk.exchange.balance("BTC") == pytest.approx(OWN)
    assert_owners(await held_by(trader), own=OWN)
    assert [row.state for row in await desk.protections()] == ["closed"]

    restarted = await desk.run()
    await restarted.account.poll()
    await desk.close_bar(restarted, 39_800.0, 39_900.0, 39_500.0, 39_600.0)  # down again: nothing held
    assert _market_sells(desk.exchange) == []
    assert await _stop_fills(restarted) == [pytest.approx(guarded)]
    assert_owners(await held_by(restarted), own=OWN)
