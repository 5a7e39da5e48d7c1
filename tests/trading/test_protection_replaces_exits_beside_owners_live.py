"""A live strategy's protection replacing its stop resting at the exchange (``native_stops``: a trailing stop
whose level rose at a bar's close) beside 0.2 BTC the account bought by hand (no exits: free coins, more than
the strategy holds), when the old stop is not simply taken back:

- the exchange will not cancel it (the cancel fails): the new stop was placed all the same, on the coins free
  beside the old one, the account's own, and booked as the strategy's: two stops for one position, the second
  selling the account's coins as the strategy's. Now nothing is placed while the old one rests; once the
  exchange takes it back, the new one replaces it;
- the old stop filled just before the cancel (a wick through it: the cancel answers "unknown order", and the
  lookup by its client id shows it filled): its fill is booked once, and the new stop was placed all the same
  for the position it had sold, on the account's coins. Now nothing is placed, and the protection, the
  position gone, closes.

After each step the strategy's position and the account's own add up to what is held, also after a restart.
"""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.engine.execution.trader import Trader
from tests.fakes.exchange import Recorded, Reply, binance_error
from tests.fakes.exchange_trading import DeskOrder, TradingExchange
from tests.trading.live_rig import open_desk
from tests.trading.owners import assert_owners
from tests.trading.second_strategy import held_by
from tests.trading.test_live_protection import BTC, Desk

OWN = 0.2
"""What the trader bought by hand beside the strategy's position (more than the strategy holds)."""


@pytest.fixture
def exchange() -> Any:
    yield from open_desk()


@pytest.fixture
async def desk(database: Any, exchange: TradingExchange) -> Any:
    desk = Desk(database, exchange, native=True, trailing_stop=0.05)
    try:
        yield desk
    finally:
        await desk.close()


async def _guarded(desk: Desk) -> tuple[Trader, float, DeskOrder]:
    """ "guarded"'s entry at 40,000 (its trailing stop resting at 38,000), then 0.2 bought by hand: the
    trader, what the strategy holds, and its stop."""
    trader = await desk.run()
    await desk.enter(trader)
    guarded = await trader.account.strategy_holding("guarded", BTC)
    assert (await trader.account.place(BTC, "buy", OWN, live=True))["order"]["state"] == "filled"
    [stop] = _stops(desk.exchange)
    assert stop.stop_price == pytest.approx(38_000.0) and stop.quantity == pytest.approx(guarded)
    assert_owners(await held_by(trader), own=OWN, guarded=guarded)
    return trader, guarded, stop


def _stops(exchange: TradingExchange) -> list[DeskOrder]:
    """The stops resting at the exchange."""
    return [o for o in exchange.placed if o.type == "STOP_LOSS_LIMIT" and o.status == "NEW"]


async def _new_high(desk: Desk, trader: Trader) -> None:
    """A bar to 42,000 closing where it opened (no signal, to enter or to exit): the trailing level rises
    to 39,900."""
    await desk.close_bar(trader, 41_500.0, 42_000.0, 39_800.0, 41_500.0)


def _market_sells(exchange: TradingExchange) -> list[DeskOrder]:
    return [o for o in exchange.placed if o.side == "SELL" and o.type == "MARKET"]


async def test_a_stop_the_exchange_will_not_take_back_is_not_replaced_beside_itself(desk: Desk) -> None:
    trader, guarded, old = await _guarded(desk)
    failing = Reply(500, binance_error(-1001, "Internal error; unable to process your request."))
    desk.exchange.route("DELETE", "/api/v3/order", lambda request: failing)

    await _new_high(desk, trader)
    await trader.housekeeping()  # the protection settles again: still no cancel

    assert _stops(desk.exchange) == [old]  # one stop for the position, not a second on the account's coins
    assert desk.exchange.locked.get("BTC", 0.0) == pytest.approx(guarded)
    assert_owners(await held_by(trader), own=OWN, guarded=guarded)

    restarted = await desk.run()  # a restart, the cancels failing still, changes nothing
    await restarted.housekeeping()
    assert _stops(desk.exchange) == [old]
    assert_owners(await held_by(restarted), own=OWN, guarded=guarded)

    desk.exchange.route("DELETE", "/api/v3/order", desk.exchange._cancel)  # the exchange cancels again
    await restarted.housekeeping()

    assert old.status == "CANCELED"
    [new] = _stops(desk.exchange)
    assert new.stop_price == pytest.approx(39_900.0) and new.quantity == pytest.approx(guarded)
    assert _market_sells(desk.exchange) == []
    assert_owners(await held_by(restarted), own=OWN, guarded=guarded)


async def test_a_stop_that_filled_just_before_its_replacement_cancel_is_booked_and_not_replaced(
    desk: Desk,
) -> None:
    trader, guarded, old = await _guarded(desk)
    answers: list[Reply] = []

    def cancel(request: Recorded) -> Reply:
        if not answers:  # a wick through the stop at the exchange, just before the cancel arrives
            desk.exchange.set_price(BTC, 37_900.0)
            desk.exchange.set_price(BTC, 41_500.0)
        answers.append(desk.exchange._cancel(request))
        return answers[-1]

    desk.exchange.route("DELETE", "/api/v3/order", cancel)

    await _new_high(desk, trader)

    assert (answers[0].status, answers[0].body.get("code")) == (400, -2011)
    assert old.status == "FILLED"
    placed = [o for o in desk.exchange.placed if o.type == "STOP_LOSS_LIMIT"]
    assert placed == [old]  # no stop placed for the position it had sold, on the account's coins
    assert _market_sells(desk.exchange) == []
    assert desk.exchange.balance("BTC") == pytest.approx(OWN)
    assert_owners(await held_by(trader), own=OWN)

    await trader.housekeeping()
    assert [row.state for row in await desk.protections()] == ["closed"]
    restarted = await desk.run()
    await restarted.housekeeping()
    assert [o for o in desk.exchange.placed if o.type == "STOP_LOSS_LIMIT"] == [old]
    assert _market_sells(desk.exchange) == []
    fills = await restarted.account.journal.fills(order_id=_order_id_of(old, await _rows(restarted)))
    assert [fill.amount for fill in fills] == [pytest.approx(guarded)]  # booked once
    assert_owners(await held_by(restarted), own=OWN)


async def _rows(trader: Trader) -> list[Any]:
    return await trader.account.journal.orders(book=trader.account.book, symbol=BTC)


def _order_id_of(order: DeskOrder, rows: list[Any]) -> int:
    [row] = [row for row in rows if row.client_order_id == order.client_order_id]
    return int(row.id)
