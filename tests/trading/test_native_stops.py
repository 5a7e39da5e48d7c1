"""A strategy's live stop rests at the exchange too (native_stops.py): placed when the protection arms,
moved up with the trailing level, taken back before the daemon or the strategy sells, and working while
the daemon is down: it fires at the exchange, and the next start books it and closes the protection."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.exchange_trading import TradingExchange
from tests.trading.live_rig import open_desk
from tests.trading.test_live_protection import BTC, Desk


@pytest.fixture
def exchange() -> Iterator[TradingExchange]:
    yield from open_desk()


async def _desk(database: Any, exchange: TradingExchange, **bracket: float) -> Desk:
    return Desk(database, exchange, native=True, **bracket)


def _stops(exchange: TradingExchange) -> list[Any]:
    return [o for o in exchange.placed if o.type == "STOP_LOSS_LIMIT"]


async def test_the_stop_rests_at_the_exchange_and_fires_while_the_daemon_is_down(
    database: Any, exchange: TradingExchange
) -> None:
    desk = await _desk(database, exchange, stop_loss=0.05)
    try:
        trader = await desk.run()
        buy = await desk.enter(trader)
        [stop] = _stops(exchange)
        assert stop.status == "NEW" and stop.stop_price == pytest.approx(38_000.0)
        shown = await trader.account.risk_status()
        assert (
            shown["protection"]["by"] == "exchange" and "rests at the exchange" in shown["protection"]["note"]
        )
        assert stop.quantity == pytest.approx(buy.executed)
        await trader.close()  # the daemon stops

        exchange.set_price(BTC, 37_900.0)  # nobody watching: the exchange fires the stop
        assert stop.status == "FILLED"

        restarted = await desk.run()
        row = await restarted.account.journal.get(client_order_id=stop.client_order_id)
        assert row.state == "filled" and row.strategy_id == "guarded" and row.role == "stop_loss"
        assert await restarted.account.positions() == []
        [record] = await desk.protections()
        assert record.state == "closed"
        assert len(exchange.placed) == 2  # the buy and its stop: the daemon sold nothing itself
        ledger = await restarted.account.broker.ledger()
        assert ledger.held(BTC) == pytest.approx(exchange.balance("BTC"), abs=1e-9)
    finally:
        await desk.close()


async def test_the_resting_stop_follows_the_trailing_level_and_yields_to_the_exit_signal(
    database: Any, exchange: TradingExchange
) -> None:
    desk = await _desk(database, exchange, trailing_stop=0.05)
    try:
        trader = await desk.run()
        buy = await desk.enter(trader)
        [first] = _stops(exchange)
        assert first.stop_price == pytest.approx(38_000.0)
        await desk.close_bar(trader, 40_000.0, 42_000.0, 39_800.0, 41_500.0)  # a new high: trail to 39,900
        await trader.housekeeping()
        assert first.status == "CANCELED"
        [second] = [o for o in _stops(exchange) if o.status == "NEW"]
        assert second.stop_price == pytest.approx(39_900.0) and second.quantity == pytest.approx(buy.executed)

        await desk.close_bar(trader, 41_500.0, 41_600.0, 40_500.0, 40_600.0)  # down bar: the exit signal
        assert second.status == "CANCELED"  # taken back before the strategy's sell
        [sell] = [o for o in exchange.placed if o.side == "SELL" and o.type == "MARKET"]
        assert sell.status == "FILLED" and sell.quantity == pytest.approx(buy.executed)
        assert await trader.account.positions() == []
        assert exchange.balance("BTC") == pytest.approx(0.0, abs=1e-9)
    finally:
        await desk.close()


async def test_the_daemon_selling_itself_takes_the_resting_stop_back_first(
    database: Any, exchange: TradingExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mastertrade.engine.execution import live_oco

    monkeypatch.setattr(live_oco, "OCO_VENUES", frozenset())  # no OCO lists: the take-profit is daemon-side
    desk = await _desk(database, exchange, stop_loss=0.05, take_profit=0.05)
    try:
        trader = await desk.run()
        shown = (await trader.account.risk_status())["protection"]
        assert shown["take_profit_by"] == "daemon" and "hold only while the daemon runs" in shown["note"]
        buy = await desk.enter(trader)
        [stop] = _stops(exchange)
        await desk.tick(trader, 42_100.0)  # the take-profit (daemon-side) is reached
        assert stop.status == "CANCELED"
        [sell] = [o for o in exchange.placed if o.side == "SELL" and o.type == "MARKET"]
        assert sell.status == "FILLED" and sell.quantity == pytest.approx(buy.executed)
        [record] = await desk.protections()
        assert record.state == "closed"
    finally:
        await desk.close()


async def test_a_refused_stop_is_not_resent_on_every_poll(database: Any, exchange: TradingExchange) -> None:
    from tests.fakes.exchange import binance_error

    desk = await _desk(database, exchange, stop_loss=0.05)
    try:
        trader = await desk.run()
        exchange.fail(
            400, path="/api/v3/order", after=1, body=binance_error(-2010, "Stop price would trigger.")
        )
        await desk.enter(trader)  # the buy passes, its stop is refused
        assert _stops(exchange) == []
        posts = desk.posts()
        for _ in range(3):
            await trader.housekeeping()
        assert desk.posts() == posts  # the daemon protects meanwhile; no order on every poll
        status = await trader.account.risk_status()
        assert status["protection"]["protected_positions"] == 1
    finally:
        await desk.close()


async def test_the_take_profit_rests_with_the_stop_as_one_oco_list_and_fires_while_the_daemon_is_down(
    database: Any, exchange: TradingExchange
) -> None:
    desk = await _desk(database, exchange, stop_loss=0.05, take_profit=0.05, trailing_stop=0.04)
    try:
        trader = await desk.run()
        buy = await desk.enter(trader)
        [stop] = _stops(exchange)
        [take] = [o for o in exchange.placed if o.type == "LIMIT_MAKER"]
        assert stop.list_id == take.list_id >= 0
        assert stop.stop_price == pytest.approx(38_400.0) and take.price == pytest.approx(42_000.0)
        assert stop.quantity == take.quantity == pytest.approx(buy.executed)
        shown = (await trader.account.risk_status())["protection"]
        assert shown["take_profit_by"] == "exchange" and "OCO" in shown["note"]

        await desk.close_bar(trader, 40_000.0, 41_000.0, 39_900.0, 40_800.0)  # a new high: trail to 39,360
        await trader.housekeeping()
        assert (stop.status, take.status) == ("CANCELED", "CANCELED")  # the pair is replaced as one
        [stop2] = [o for o in _stops(exchange) if o.status == "NEW"]
        [take2] = [o for o in exchange.placed if o.type == "LIMIT_MAKER" and o.status == "NEW"]
        assert stop2.list_id == take2.list_id and stop2.stop_price == pytest.approx(39_360.0)
        assert take2.price == pytest.approx(42_000.0)
        await trader.close()  # the daemon stops

        exchange.set_price(BTC, 42_100.0)  # nobody watching: the exchange takes the profit
        assert (take2.status, stop2.status) == ("FILLED", "EXPIRED")

        restarted = await desk.run()
        row = await restarted.account.journal.get(client_order_id=take2.client_order_id)
        assert row.state == "filled" and row.role == "take_profit" and row.strategy_id == "guarded"
        assert (
            await restarted.account.journal.get(client_order_id=stop2.client_order_id)
        ).state == "cancelled"
        assert await restarted.account.positions() == []
        [record] = await desk.protections()
        assert record.state == "closed"
        assert not [
            o for o in exchange.placed if o.type == "MARKET" and o.side == "SELL"
        ]  # none by the daemon
        ledger = await restarted.account.broker.ledger()
        assert ledger.held(BTC) == pytest.approx(exchange.balance("BTC"), abs=1e-9)
        assert ledger.balance("USDT") == pytest.approx(exchange.balance("USDT"), abs=1e-6)
    finally:
        await desk.close()


async def test_a_take_profit_that_fills_in_part_gets_a_new_pair_for_the_rest_of_the_position(
    database: Any, exchange: TradingExchange
) -> None:
    desk = await _desk(database, exchange, stop_loss=0.05, take_profit=0.05)
    try:
        trader = await desk.run()
        buy = await desk.enter(trader)
        [stop] = _stops(exchange)
        [take] = [o for o in exchange.placed if o.type == "LIMIT_MAKER"]
        part = buy.executed * 0.4
        exchange.fill_part(take.client_order_id, part)
        assert (take.status, stop.status) == ("PARTIALLY_FILLED", "EXPIRED")  # the rest has no stop

        await trader.housekeeping()  # the poll books the part; the protection re-places the pair
        await desk.close_bar(trader, 40_000.0, 40_500.0, 39_800.0, 40_200.0)
        await trader.housekeeping()
        assert take.status == "CANCELED"
        [stop2] = [o for o in _stops(exchange) if o.status == "NEW"]
        [take2] = [o for o in exchange.placed if o.type == "LIMIT_MAKER" and o.status == "NEW"]
        assert stop2.list_id == take2.list_id != stop.list_id
        assert stop2.quantity == take2.quantity == pytest.approx(buy.executed - part)
        assert (stop2.stop_price, take2.price) == (stop.stop_price, take.price)
        ledger = await trader.account.broker.ledger()
        assert ledger.held(BTC) == pytest.approx(buy.executed - part, abs=1e-9)
        assert exchange.balance("BTC") == pytest.approx(buy.executed - part, abs=1e-9)
    finally:
        await desk.close()


async def test_a_take_profit_cancelled_by_hand_is_not_put_back_and_its_stop_rests_alone(
    database: Any, exchange: TradingExchange
) -> None:
    """``mt orders cancel`` of a strategy's take-profit (without ``--unprotect``): the exchange cancels
    its OCO list as one. Before, the protection put the pair back at the next price, overriding the
    human's cancel. Now the stop is placed again alone, the take-profit stays cancelled (the daemon does
    not sell at its level either), across a restart, until the strategy's next entry."""
    desk = await _desk(database, exchange, stop_loss=0.05, take_profit=0.03)
    try:
        trader = await desk.run()
        buy = await desk.enter(trader)
        [stop] = _stops(exchange)
        [take] = [o for o in exchange.placed if o.type == "LIMIT_MAKER"]
        journal = trader.account.journal
        take_row = await journal.get(client_order_id=take.client_order_id)
        assert take_row.id is not None and take_row.strategy_id == "guarded"

        def takes() -> list[Any]:
            return [o for o in exchange.placed if o.type == "LIMIT_MAKER" and o.status == "NEW"]

        shown = await trader.account.cancel(take_row.id)  # the door of mt orders cancel and the API
        assert shown["state"] == "cancelled"
        assert (take.status, stop.status) == ("CANCELED", "CANCELED")  # the exchange cancels the list
        await trader.housekeeping()
        await desk.close_bar(trader, 40_000.0, 40_500.0, 39_800.0, 40_200.0)  # the next re-protection
        await trader.housekeeping()
        assert takes() == []  # before: the pair was placed again, the take-profit with it
        [alone] = [o for o in _stops(exchange) if o.status == "NEW"]
        assert alone.list_id == -1 and alone.stop_price == stop.stop_price
        assert alone.quantity == pytest.approx(buy.executed)
        assert "its stop is kept" in shown["reason"] and "rests alone as stop-loss order" in shown["reason"]
        old_stop = await journal.get(client_order_id=stop.client_order_id)
        assert old_stop.reason is not None and "placed again alone as stop-loss order" in old_stop.reason
        await desk.tick(trader, 41_300.0)  # over the old take-profit level (41,200): the daemon does not sell
        assert not [o for o in exchange.placed if o.type == "MARKET" and o.side == "SELL"]
        [record] = await desk.protections()
        assert record.state == "active" and record.take_profit is None and record.stop_loss == 0.05
        await trader.close()

        restarted = await desk.run()  # a restart keeps the human's cancel
        await restarted.housekeeping()
        await desk.tick(restarted, 41_400.0)
        assert takes() == [] and [o.status for o in _stops(exchange)].count("NEW") == 1
        assert (await restarted.account.broker.ledger()).held(BTC) == pytest.approx(buy.executed)

        await desk.close_bar(restarted, 41_400.0, 41_500.0, 40_900.0, 41_000.0)  # the exit signal sells
        assert await restarted.account.positions() == []
        await desk.close_bar(restarted, 41_000.0, 41_250.0, 40_900.0, 41_200.0)  # a new entry...
        assert [o.status for o in desk.orders("BUY")] == ["FILLED", "FILLED"]
        # ...with the strategy's own exits, take-profit too
        [new_take] = takes()
        assert new_take.price == pytest.approx(41_200.0 * 1.03)
    finally:
        await desk.close()


async def test_two_callers_re_protecting_one_position_at_once_place_one_stop(
    database: Any, exchange: TradingExchange
) -> None:
    """A take-profit's cancel through the API and the daemon's own re-protection can run at once: one
    caller at a time changes a position's resting exits (before, each found them gone and placed its
    own: two orders sent, the second taking the first back or refused for the coins the first holds)."""
    desk = await _desk(database, exchange, stop_loss=0.05)
    try:
        trader = await desk.run()
        await desk.enter(trader)
        protection = trader.protection
        assert protection is not None
        await protection.native.release(BTC, "guarded", "taken back by the test")
        assert [o.status for o in _stops(exchange)] == ["CANCELED"]
        posts = desk.posts()
        await asyncio.gather(protection.sync(BTC), protection.sync(BTC))
        assert desk.posts() == posts + 1
        assert [o.status for o in _stops(exchange)] == ["CANCELED", "NEW"]
    finally:
        await desk.close()
