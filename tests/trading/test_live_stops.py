"""Protective exits that rest at the exchange: a live stop order is the venue's native stop-limit, and a
bracketed entry's exit is sent once the entry fills. The fake exchange triggers stops on its own price,
so a stop placed by a daemon that then stopped still fires, and the next start books its fill."""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.orders import OrderRequest, OrderType, Side
from tests.fakes.exchange_trading import TradingExchange
from tests.trading.live_rig import BTC, Rig, buy


@pytest.fixture
def desk_options() -> dict[str, Any]:
    return {"hang_s": 2}


async def test_a_stop_loss_rests_at_the_exchange_and_fires_while_the_daemon_is_down(rig: Rig) -> None:
    broker = await rig.started()
    entry = await broker.submit(buy(0.1, stop_loss=0.05, reference_price=40_000.0), placed_ts=now_ms())
    assert entry.state == "filled"
    [stop] = [o for o in rig.desk.placed if o.type == "STOP_LOSS_LIMIT"]
    assert stop.side == "SELL" and stop.quantity == pytest.approx(0.1)
    assert stop.stop_price == pytest.approx(38_000.0) and stop.price == pytest.approx(37_620.0)
    [child] = [row for row in await rig.journal.orders(book="live") if row.parent_id == entry.id]
    assert child.state == "open" and child.role == "stop_loss" and child.exchange_order_id
    await broker.close()  # the daemon stops; the stop stays at the exchange

    rig.desk.set_price(BTC, 39_000.0)  # not yet
    assert stop.status == "NEW"
    rig.desk.set_price(BTC, 37_900.0)  # through the stop: it triggers and fills there, nobody watching
    assert stop.status == "FILLED"

    restarted = await rig.started()
    booked = await rig.journal.get(child.id)
    assert booked.state == "filled" and booked.filled == pytest.approx(0.1)
    [fill] = await rig.journal.fills(order_id=child.id)
    assert fill.price == pytest.approx(37_900.0)
    ledger = await restarted.ledger()
    assert ledger.held(BTC) == pytest.approx(0.0, abs=1e-12)
    assert ledger.balance("USDT") == pytest.approx(rig.desk.balance("USDT"), abs=1e-6)
    await rig.assert_reconciled()


async def test_an_entry_that_filled_before_its_stop_was_sent_gets_it_at_the_next_start(rig: Rig) -> None:
    from mastertrade.engine.execution.journal import NewFill
    from mastertrade.engine.orders import OrderState

    await rig.started()
    # The daemon journaled the bracketed entry, sent it, booked its fill, and died before the stop left.
    entry, [child] = await rig.journal.create_order(
        "live", "live", buy(0.1, stop_loss=0.05, reference_price=40_000.0), placed_ts=now_ms()
    )
    rig.desk.accept(BTC, "BUY", "MARKET", 0.1, None, entry.client_order_id)
    [desk_entry] = rig.desk.orders_for(entry.client_order_id)
    trade = desk_entry.trades[0]
    fill = NewFill(str(trade["id"]), 0.1, 40_000.0, float(trade["commission"]), "USDT", now_ms())
    await rig.journal.transition(entry.id, OrderState.SENT, sent=True)
    await rig.journal.add_fills(
        entry.id, [fill], OrderState.FILLED, exchange_order_id=str(desk_entry.order_id)
    )
    assert (await rig.journal.get(child.id)).state == "intent"

    restarted = await rig.started()
    [stop] = [o for o in rig.desk.placed if o.type == "STOP_LOSS_LIMIT"]
    assert stop.client_order_id == child.client_order_id and stop.quantity == pytest.approx(0.1)
    assert (await rig.journal.get(child.id)).state == "open"
    assert (await restarted.ledger()).held(BTC) == pytest.approx(0.1)
    await rig.assert_reconciled()


async def test_a_plain_live_stop_order_is_native(rig: Rig) -> None:
    broker = await rig.started()
    await broker.submit(buy(0.2), placed_ts=now_ms())
    stop = await broker.submit(
        OrderRequest(BTC, Side.SELL, OrderType.STOP, amount=0.2, stop_price=39_000.0), placed_ts=now_ms()
    )
    assert stop.state == "open" and stop.stop_price == 39_000.0 and stop.price == pytest.approx(38_610.0)
    rig.desk.set_price(BTC, 38_800.0)
    await broker.poll()
    assert (await rig.journal.get(stop.id)).state == "filled"
    assert (await broker.ledger()).held(BTC) == pytest.approx(0.0, abs=1e-12)
    await rig.assert_reconciled()


async def test_a_take_profit_rests_as_a_limit_sell(rig: Rig) -> None:
    broker = await rig.started()
    entry = await broker.submit(buy(0.1, take_profit=0.1, reference_price=40_000.0), placed_ts=now_ms())
    [take] = [row for row in await rig.journal.orders(book="live") if row.parent_id == entry.id]
    assert take.state == "open" and take.price == pytest.approx(44_000.0)
    rig.desk.set_price(BTC, 44_500.0)
    await broker.poll()
    assert (await rig.journal.get(take.id)).state == "filled"
    await rig.assert_reconciled()


def _legs(desk: TradingExchange) -> tuple[Any, Any]:
    [stop] = [o for o in desk.placed if o.type == "STOP_LOSS_LIMIT"]
    [take] = [o for o in desk.placed if o.type == "LIMIT_MAKER"]
    return stop, take


@pytest.mark.parametrize(("price", "fills"), [(44_500.0, "take_profit"), (37_900.0, "stop_loss")])
async def test_stop_and_take_profit_rest_as_one_oco_list_and_either_fires_while_the_daemon_is_down(
    rig: Rig, price: float, fills: str
) -> None:
    broker = await rig.started()
    assert broker.has_oco
    entry = await broker.submit(
        buy(0.1, stop_loss=0.05, take_profit=0.1, reference_price=40_000.0), placed_ts=now_ms()
    )
    assert entry.state == "filled"
    stop, take = _legs(rig.desk)
    assert stop.list_id == take.list_id >= 0 and stop.quantity == take.quantity == pytest.approx(0.1)
    assert stop.stop_price == pytest.approx(38_000.0) and take.price == pytest.approx(44_000.0)
    assert rig.desk.balance("BTC") == pytest.approx(0.1)  # locked once for both legs
    children = {row.role: row for row in await rig.journal.orders(book="live") if row.parent_id == entry.id}
    assert {role: row.state for role, row in children.items()} == {"stop_loss": "open", "take_profit": "open"}
    assert {children["stop_loss"].client_order_id, children["take_profit"].client_order_id} == {
        stop.client_order_id,
        take.client_order_id,
    }
    await broker.close()  # the daemon stops; the list stays at the exchange

    rig.desk.set_price(BTC, price)  # one leg fills there, the exchange expires the other
    fired, other = (take, stop) if fills == "take_profit" else (stop, take)
    assert (fired.status, other.status) == ("FILLED", "EXPIRED")

    restarted = await rig.started()
    booked = {row.role: row for row in await rig.journal.orders(book="live") if row.parent_id == entry.id}
    assert booked[fills].state == "filled" and booked[fills].filled == pytest.approx(0.1)
    [other_role] = set(booked) - {fills}
    assert booked[other_role].state == "cancelled" and booked[other_role].filled == 0
    [fill] = await rig.journal.fills(order_id=booked[fills].id)
    assert fill.trade_id == str(fired.trades[0]["id"])
    ledger = await restarted.ledger()
    assert ledger.held(BTC) == pytest.approx(0.0, abs=1e-12)
    assert ledger.balance("USDT") == pytest.approx(rig.desk.balance("USDT"), abs=1e-6)
    assert len(rig.desk.placed) == 3  # the entry and the two legs, each once
    await rig.assert_reconciled()


async def test_a_bracket_whose_entry_and_oco_answers_were_lost_ends_as_at_the_exchange(rig: Rig) -> None:
    broker = await rig.started()
    rig.desk.after_accept("drop", times=2)  # the entry's answer, then the OCO list's, are lost
    entry = await broker.submit(
        buy(0.1, stop_loss=0.05, take_profit=0.1, reference_price=40_000.0), placed_ts=now_ms()
    )
    assert entry.state == "filled"  # resolved by its client id, then its exits armed as one list
    children = [row for row in await rig.journal.orders(book="live") if row.parent_id == entry.id]
    assert sorted(row.state for row in children) == ["open", "open"]  # each leg found by its client id
    assert [o.type for o in rig.desk.placed] == ["MARKET", "STOP_LOSS_LIMIT", "LIMIT_MAKER"]  # sent once
    await (await rig.started()).poll()
    await rig.assert_reconciled()


async def test_an_oco_answer_lost_leaves_both_legs_unknown_then_open(rig: Rig) -> None:
    broker = await rig.started()
    entry = await broker.submit(buy(0.1), placed_ts=now_ms())
    assert entry.state == "filled"
    rig.desk.after_accept("drop")
    stop, take = await broker.submit_oco(
        OrderRequest(BTC, Side.SELL, OrderType.STOP, amount=0.1, stop_price=38_000.0, role="stop_loss"),
        OrderRequest(BTC, Side.SELL, OrderType.LIMIT, amount=0.1, price=44_000.0, role="take_profit"),
        placed_ts=now_ms(),
    )
    assert (stop.state, take.state) == ("open", "open")  # looked up by client id after the drop
    assert stop.oco == take.oco is not None
    desk_stop, desk_take = _legs(rig.desk)
    assert (desk_stop.client_order_id, desk_take.client_order_id) == (
        stop.client_order_id,
        take.client_order_id,
    )
    await rig.assert_reconciled()


async def test_an_oco_pair_journaled_but_never_sent_is_sent_once_at_the_next_start(rig: Rig) -> None:
    broker = await rig.started()
    await broker.submit(buy(0.1), placed_ts=now_ms())
    legs = (
        OrderRequest(BTC, Side.SELL, OrderType.STOP, amount=0.1, stop_price=38_000.0, price=37_620.0),
        OrderRequest(BTC, Side.SELL, OrderType.LIMIT, amount=0.1, price=44_000.0, role="take_profit"),
    )
    stop, take = await rig.journal.create_oco("live", "live", legs, placed_ts=now_ms())  # then: kill -9
    restarted = await rig.started()
    assert [(await rig.journal.get(row.id)).state for row in (stop, take)] == ["open", "open"]
    assert len(_legs(rig.desk)) == 2
    await restarted.poll()
    await rig.assert_reconciled()


async def test_prices_that_do_not_bracket_the_market_reject_both_legs(rig: Rig) -> None:
    broker = await rig.started()
    await broker.submit(buy(0.1), placed_ts=now_ms())
    stop, take = await broker.submit_oco(
        OrderRequest(BTC, Side.SELL, OrderType.STOP, amount=0.1, stop_price=41_000.0),  # above the market
        OrderRequest(BTC, Side.SELL, OrderType.LIMIT, amount=0.1, price=44_000.0, role="take_profit"),
        placed_ts=now_ms(),
    )
    assert (stop.state, take.state) == ("rejected", "rejected")
    assert "relationship of the prices" in (stop.reason or "")


async def test_without_oco_the_stop_rests_and_the_take_profit_holds_only_while_the_daemon_runs(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mastertrade.engine.candle import Bar, Candle
    from mastertrade.engine.execution import live_oco

    monkeypatch.setattr(live_oco, "OCO_VENUES", frozenset())  # a venue with stops but no OCO lists
    broker = await rig.started()
    assert not broker.has_oco and broker.has_native_stops
    entry = await broker.submit(
        buy(0.1, stop_loss=0.05, take_profit=0.1, reference_price=40_000.0), placed_ts=now_ms()
    )
    [stop] = [o for o in rig.desk.placed if o.type == "STOP_LOSS_LIMIT"]
    assert stop.list_id == -1 and not [o for o in rig.desk.placed if o.type in ("LIMIT", "LIMIT_MAKER")]
    [held] = await broker.held_exits()
    assert held["price"] == pytest.approx(44_000.0) and held["by"] == "daemon"
    assert "holds only while the daemon runs" in held["note"]
    await broker.close()

    rig.desk.set_price(BTC, 44_500.0)  # the daemon is down: nothing sells at the exchange
    assert stop.status == "NEW" and rig.desk.balance("BTC") == pytest.approx(0.1)

    restarted = await rig.started()
    assert len(await restarted.held_exits()) == 1
    await restarted.on_bar(
        BTC, Bar(Candle(now_ms(), 44_400.0, 44_600.0, 44_300.0, 44_500.0))
    )  # the daemon sees it
    assert stop.status == "CANCELED"
    children = {row.role: row for row in await rig.journal.orders(book="live") if row.parent_id == entry.id}
    assert children["stop_loss"].state == "cancelled"
    assert children["take_profit"].state == "filled" and children["take_profit"].filled == pytest.approx(0.1)
    assert await restarted.held_exits() == []
    assert (await restarted.ledger()).held(BTC) == pytest.approx(0.0, abs=1e-12)
    await rig.assert_reconciled()


async def test_without_oco_a_stop_that_fired_while_the_daemon_was_down_cancels_the_held_take_profit(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mastertrade.engine.execution import live_oco

    monkeypatch.setattr(live_oco, "OCO_VENUES", frozenset())
    broker = await rig.started()
    entry = await broker.submit(
        buy(0.1, stop_loss=0.05, take_profit=0.1, reference_price=40_000.0), placed_ts=now_ms()
    )
    await broker.close()
    rig.desk.set_price(BTC, 37_900.0)  # the stop fires at the exchange
    restarted = await rig.started()
    children = {row.role: row for row in await rig.journal.orders(book="live") if row.parent_id == entry.id}
    assert children["stop_loss"].state == "filled"
    assert children["take_profit"].state == "cancelled" and "sold first" in (
        children["take_profit"].reason or ""
    )
    assert await restarted.held_exits() == []
    assert [o.side for o in rig.desk.placed] == ["BUY", "SELL"]  # nothing more was sent
    await rig.assert_reconciled()
