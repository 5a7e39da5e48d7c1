"""Selling all or part of a live bracketed position by hand: its exits at the exchange are replaced.

The sell was refused ("the 0.1 held are reserved by its exits at the exchange ... cancel them first ...
then sell"; a partial one "which a partial sell does not resize"): the trader had to leave the position
unprotected between two commands. Now the exits are cancelled (each cancel journaled as MasterTrade's and
confirmed by client order id), placed again for what the sell leaves, and the sell sent; a refused sell
puts the protection back; a daemon killed in between is finished or rolled back at its next start, by
client order id, never two exit sets, never a resend (``live_bracket_sell``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from mastertrade import errors
from mastertrade.db.models.trading import OrderRecord
from mastertrade.engine import events
from mastertrade.engine.execution import bracket_sell, exit_cancels, live_bracket_sell, live_oco
from mastertrade.engine.execution.live import LiveBroker
from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.orders import OrderRequest, OrderState, OrderType, Side
from tests.fakes.exchange import Recorded, Reply, binance_error
from tests.fakes.exchange_trading import DeskOrder
from tests.trading.live_rig import BTC, Rig, buy, listen


class Killed(BaseException):
    """The daemon dies here."""


async def _killed(*_: Any, **__: Any) -> Any:
    raise Killed


async def _bracketed(rig: Rig, **options: Any) -> tuple[LiveBroker, list[events.Event]]:
    """A filled entry of 0.1 BTC at 40,000 with its stop (38,000) and take-profit (44,000)."""
    broker = await rig.started()
    published: list[events.Event] = []
    broker.publish = published.append
    entry = await broker.submit(
        buy(0.1, stop_loss=0.05, reference_price=40_000.0, **({"take_profit": 0.1} | options)),
        placed_ts=now_ms(),
    )
    assert entry.state == "filled"
    return broker, published


async def _exits(rig: Rig) -> list[OrderRecord]:
    rows = await rig.journal.orders(book="live", states=[OrderState.OPEN, OrderState.PARTIALLY_FILLED])
    return sorted((r for r in rows if r.side == "sell" and r.parent_id is not None), key=lambda r: r.id or 0)


async def _sell(broker: LiveBroker, rig: Rig, amount: float, cid: str = "sell-by-hand") -> tuple[Any, Any]:
    """What ``Account.send`` does for a sell by hand: the plan, then the broker's replacing sell."""
    plan = bracket_sell.plan(await _exits(rig), (await broker.ledger()).held(BTC), amount)
    assert plan is not None and await broker.why_not_replaceable(plan) is None
    request = OrderRequest(BTC, Side.SELL, amount=amount, reference_price=40_000.0, client_order_id=cid)
    return await broker.sell_replacing(request, placed_ts=now_ms(), plan=plan)


def _resting(rig: Rig) -> list[DeskOrder]:
    return sorted(
        (o for o in rig.desk.orders.values() if o.side == "SELL" and o.status == "NEW"), key=lambda o: o.type
    )


def _alerts(published: list[events.Event]) -> list[events.RiskBreached]:
    return [e for e in published if isinstance(e, events.RiskBreached)]


def _sells(rig: Rig) -> list[DeskOrder]:
    return [o for o in rig.desk.placed if o.side == "SELL" and o.type == "MARKET"]


def _refuse_market_sells(rig: Rig) -> None:
    """The exchange refuses the next market sell (its risk engine)."""
    create = rig.desk._create

    def refusing(request: Recorded) -> Reply:
        if request.params.get("type") == "MARKET" and request.params.get("side") == "SELL":
            rig.desk.route("POST", "/api/v3/order", create)
            return Reply(400, binance_error(-2010, "Order refused by the exchange's risk engine."))
        return create(request)

    rig.desk.route("POST", "/api/v3/order", refusing)


async def test_a_whole_sell_cancels_the_oco_list_confirmed_by_client_id_then_sells(rig: Rig) -> None:
    broker, published = await _bracketed(rig)
    stop, take = await _exits(rig)

    sold, said = await _sell(broker, rig, 0.1)

    assert sold.state == "filled" and sold.filled == pytest.approx(0.1)
    assert said == f"its exits were cancelled: order {stop.id} (stop-loss), order {take.id} (take-profit)"
    assert _resting(rig) == [] and (await broker.ledger()).held(BTC) == pytest.approx(0.0, abs=1e-12)
    for row in (stop, take):
        assert row.id is not None
        after = await rig.journal.get(row.id)
        assert (after.state, after.reason) == (
            "cancelled",
            f"{bracket_sell.SOLD_BY_HAND}{sold.id}: cancelled with its position",
        )
    asked = {
        r.params.get("origClientOrderId") for r in rig.desk.requests_to("/api/v3/order") if r.method == "GET"
    }
    assert {stop.client_order_id, take.client_order_id} <= asked  # confirmed, never assumed
    assert _alerts(published) == []  # our own cancels: not "cancelled at the exchange"
    await broker.poll()
    assert _alerts(published) == [] and len(_sells(rig)) == 1
    await rig.assert_reconciled()


async def test_a_partial_sell_resizes_the_oco_list_to_what_is_left(rig: Rig) -> None:
    broker, published = await _bracketed(rig)
    stop, take = await _exits(rig)

    sold, said = await _sell(broker, rig, 0.04)

    assert sold.state == "filled" and sold.filled == pytest.approx(0.04)
    new_stop, new_take = await _exits(rig)
    stop_id, take_id = live_bracket_sell.derived_ids(sold, "resize")
    assert (new_stop.client_order_id, new_take.client_order_id) == (stop_id, take_id)
    assert said == (
        f"its exits order {stop.id} (stop-loss), order {take.id} (take-profit) were resized to 0.06 "
        f"BTC/USDT: order {new_stop.id} (stop-loss), order {new_take.id} (take-profit)"
    )
    leg_take, leg_stop = _resting(rig)  # one new list at the old levels for the rest
    assert (leg_stop.type, leg_take.type) == ("STOP_LOSS_LIMIT", "LIMIT_MAKER")
    assert leg_stop.list_id == leg_take.list_id >= 0
    assert leg_stop.quantity == leg_take.quantity == pytest.approx(0.06)
    assert (leg_stop.stop_price, leg_take.price) == (stop.stop_price, take.price)
    assert rig.desk.locked["BTC"] == pytest.approx(0.06)  # never more reserved than held
    assert (await broker.ledger()).held(BTC) == pytest.approx(0.06)
    old = await rig.journal.get(stop.id)
    assert old.reason == (
        f"{bracket_sell.SOLD_BY_HAND}{sold.id}: resized to 0.06 BTC/USDT as orders {new_stop.id} and "
        f"{new_take.id}"
    )
    await broker.poll()
    await rig.started()
    assert len(rig.desk.placed) == 6 and _alerts(published) == []
    await rig.assert_reconciled()

    # the rest is protected: the stop sells it
    rig.desk.set_price(BTC, 37_900.0)
    await broker.poll()
    assert (await rig.journal.get(new_stop.id)).state == "filled"
    assert (await broker.ledger()).held(BTC) == pytest.approx(0.0, abs=1e-12)


async def test_without_oco_lists_the_stop_is_resized_and_its_take_profit_kept_for_the_rest(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_oco, "OCO_VENUES", frozenset())  # a venue with stops but no OCO lists
    broker, _ = await _bracketed(rig)
    [stop] = await _exits(rig)
    [held] = await broker.held_exits()

    sold, said = await _sell(broker, rig, 0.04)

    assert sold.state == "filled"
    [new_stop] = _resting(rig)
    assert (new_stop.type, new_stop.list_id, new_stop.stop_price) == ("STOP_LOSS_LIMIT", -1, stop.stop_price)
    assert new_stop.quantity == pytest.approx(0.06)
    [new_held] = await broker.held_exits()
    assert new_held["order_id"] != held["order_id"] and new_held["amount"] == pytest.approx(0.06)
    assert (await rig.journal.get(held["order_id"])).state == "cancelled"
    assert f"order {held['order_id']} (take-profit)" in said and "resized to 0.06" in said
    await rig.assert_reconciled()


async def test_a_sell_the_exchange_refuses_puts_the_protection_back_for_what_is_held(rig: Rig) -> None:
    broker, published = await _bracketed(rig)
    stop, take = await _exits(rig)
    _refuse_market_sells(rig)

    sold, said = await _sell(broker, rig, 0.04)

    assert sold.state == "rejected" and "risk engine" in (sold.reason or "")
    back_stop, back_take = await _exits(rig)
    assert (back_stop.client_order_id, back_take.client_order_id) == live_bracket_sell.derived_ids(
        sold, "back"
    )
    leg_take, leg_stop = _resting(rig)
    assert leg_stop.quantity == leg_take.quantity == pytest.approx(0.1)  # all that is held again
    assert (leg_stop.stop_price, leg_take.price) == (stop.stop_price, take.price)
    assert "the sell was refused" in said and f"placed again for the 0.1 {BTC} held as" in said
    resized = live_bracket_sell.derived_ids(sold, "resize")
    for cid in resized:  # the exits for the rest went first: cancelled (confirmed) before these
        assert (await rig.journal.get(client_order_id=cid)).state == "cancelled"
    assert (await broker.ledger()).held(BTC) == pytest.approx(0.1)
    await broker.poll()
    await rig.started()
    assert len(_resting(rig)) == 2
    await rig.assert_reconciled()


async def test_killed_after_the_cancels_the_next_start_places_the_exits_once_and_sells(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker, _ = await _bracketed(rig)
    stop, take = await _exits(rig)
    monkeypatch.setattr(live_oco, "send_exits", _killed)  # dies between the cancels and the new exits
    with pytest.raises(Killed):
        await _sell(broker, rig, 0.04)
    assert _resting(rig) == [] and _sells(rig) == []
    [intent] = [
        r
        for r in await rig.journal.orders(book="live", states=[OrderState.INTENT])
        if r.side == "sell" and r.parent_id is None
    ]
    assert live_bracket_sell.is_marked(intent)
    monkeypatch.undo()

    restarted = await rig.started()

    sold = await rig.journal.get(intent.id)
    assert sold.state == "filled" and len(_sells(rig)) == 1
    assert [o.quantity for o in _resting(rig)] == [pytest.approx(0.06)] * 2
    assert (await restarted.ledger()).held(BTC) == pytest.approx(0.06)
    await restarted.poll()
    await rig.started()
    assert len(_sells(rig)) == 1 and len(_resting(rig)) == 2 and len(rig.desk.placed) == 6
    assert (await rig.journal.get(stop.id)).reason is not None
    assert "resized to 0.06" in ((await rig.journal.get(stop.id)).reason or "")
    await rig.assert_reconciled()


async def test_killed_and_restarted_too_late_the_sell_is_rolled_back_and_the_exits_put_back(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker, _ = await _bracketed(rig)
    stop, take = await _exits(rig)
    monkeypatch.setattr(live_oco, "send_exits", _killed)
    with pytest.raises(Killed):
        await _sell(broker, rig, 0.04)
    monkeypatch.undo()
    rig.clock.offset += timedelta(seconds=120)  # past intent_max_age_s

    await rig.started()

    [intent] = [r for r in await rig.journal.orders(book="live") if r.client_order_id == "sell-by-hand"]
    assert intent.state == "cancelled" and (intent.reason or "").startswith("stale intent: never sent")
    assert _sells(rig) == []  # never sent
    legs = _resting(rig)
    assert [o.quantity for o in legs] == [pytest.approx(0.1)] * 2
    assert {o.client_order_id for o in legs} == set(live_bracket_sell.derived_ids(intent, "back"))
    await rig.started()
    assert len(_resting(rig)) == 2
    await rig.assert_reconciled()


async def test_killed_before_any_cancel_and_restarted_too_late_keeps_the_old_exits(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker, _ = await _bracketed(rig)
    stop, take = await _exits(rig)
    monkeypatch.setattr(broker, "cancel", _killed)  # dies once the intents are journaled
    with pytest.raises(Killed):
        await _sell(broker, rig, 0.04)
    monkeypatch.undo()
    rig.clock.offset += timedelta(seconds=120)

    await rig.started()

    assert {o.client_order_id for o in _resting(rig)} == {stop.client_order_id, take.client_order_id}
    assert _sells(rig) == []
    intents = [r for r in await rig.journal.orders(book="live") if r.state == "intent"]
    assert intents == []  # the sell and the new exits' intents are cancelled, unsent
    await rig.assert_reconciled()


async def test_a_rest_below_the_minimum_notional_is_left_unprotected_loudly(rig: Rig) -> None:
    broker, published = await _bracketed(rig)
    stop, take = await _exits(rig)

    sold, said = await _sell(broker, rig, 0.0999)  # leaves 0.0001 BTC: 3.762 USDT at its stop, under 5

    assert sold.state == "filled" and _resting(rig) == []
    assert (
        "have no exits at the exchange: worth 3.762 USDT, below the exchange's minimum notional of 5 USDT"
        in said
    )
    assert "below the exchange's minimum notional" in broker.unprotected()[BTC]
    [alert] = _alerts(published)
    assert alert.limit == "exit_unplaced" and "0.0001" in alert.message
    await rig.assert_reconciled()


async def test_a_rest_left_unprotected_is_still_shown_and_said_after_a_restart_until_sold(rig: Rig) -> None:
    """The mark was kept in the daemon's memory only: a restart showed the bare rest as protected."""
    broker, _ = await _bracketed(rig)
    sold, said = await _sell(broker, rig, 0.0999)
    assert sold.state == "filled" and _resting(rig) == []
    await broker.poll()  # nothing covers the rest: the mark stays
    assert BTC in broker.unprotected()

    restarted = rig.broker()
    published = listen(restarted)
    await restarted.start()

    shown = restarted.unprotected()[BTC]
    assert "the 0.0001 BTC left of the BTC/USDT position have no exits at the exchange" in shown
    assert "below the exchange's minimum notional of 5 USDT" in shown and f"order {sold.id}" in shown
    [alert] = _alerts(published)  # said again, once, by the restarted daemon
    assert alert.limit == "exit_unplaced" and alert.message == shown
    await restarted.poll()
    assert len(_alerts(published)) == 1

    # sold: the mark goes, and stays gone after the next start
    rest = OrderRequest(BTC, Side.SELL, amount=0.0001, reference_price=60_000.0)
    rig.desk.set_price(BTC, 60_000.0)  # 6 USDT: a sell the exchange takes
    assert (await restarted.submit(rest, placed_ts=now_ms())).state == "filled"
    await restarted.poll()
    assert restarted.unprotected() == {}
    assert (await rig.started()).unprotected() == {}


async def test_a_rest_left_unprotected_is_unmarked_once_exits_cover_it_again(rig: Rig) -> None:
    broker, _ = await _bracketed(rig)
    await _sell(broker, rig, 0.0999)
    assert BTC in broker.unprotected()
    entry = await broker.submit(buy(0.1, stop_loss=0.05, reference_price=40_000.0), placed_ts=now_ms())
    assert entry.state == "filled"
    await broker.poll()
    assert BTC in broker.unprotected()  # the new stop covers the new 0.1, not the old rest

    rig.desk.set_price(BTC, 60_000.0)  # the rest is worth an exit now: the trader places one
    cover = OrderRequest(
        BTC, Side.SELL, OrderType.STOP, amount=0.0001, stop_price=55_000.0, price=54_500.0, role="stop_loss"
    )
    assert (await broker.submit(cover, placed_ts=now_ms())).state == "open"
    await broker.poll()
    assert broker.unprotected() == {}
    assert (await rig.started()).unprotected() == {}


async def _two_sets(rig: Rig) -> tuple[LiveBroker, list[OrderRecord], list[OrderRecord]]:
    """Two filled bracketed buys of 0.1 BTC, each with its own OCO list (the second's wider)."""
    broker, _ = await _bracketed(rig)
    first = await _exits(rig)
    entry = await broker.submit(
        buy(0.1, stop_loss=0.1, take_profit=0.2, reference_price=40_000.0), placed_ts=now_ms()
    )
    assert entry.state == "filled"
    second = [row for row in await _exits(rig) if row.id not in {r.id for r in first}]
    assert len(second) == 2 and rig.desk.locked["BTC"] == pytest.approx(0.2)
    return broker, first, second


async def test_with_two_exit_sets_the_newest_is_cancelled_and_the_oldest_resized(rig: Rig) -> None:
    """Before, the sell was refused ("they are more than one set of exits")."""
    broker, first, second = await _two_sets(rig)

    sold, said = await _sell(broker, rig, 0.15)

    assert sold.state == "filled" and sold.filled == pytest.approx(0.15)
    new_stop, new_take = await _exits(rig)
    assert (new_stop.client_order_id, new_take.client_order_id) == live_bracket_sell.derived_ids(
        sold, "resize"
    )
    assert (new_stop.stop_price, new_take.price) == (first[0].stop_price, first[1].price)  # the oldest's
    assert [o.quantity for o in _resting(rig)] == [pytest.approx(0.05)] * 2
    assert rig.desk.locked["BTC"] == pytest.approx(0.05) and (await broker.ledger()).held(
        BTC
    ) == pytest.approx(0.05)
    for row in [*first, *second]:
        assert (await rig.journal.get(row.id)).state == "cancelled"
    assert said == (
        f"its exits {bracket_sell.names(first)} were resized to 0.05 BTC/USDT: "
        f"{bracket_sell.names([new_stop, new_take])}; {bracket_sell.names(second)} were cancelled"
    )
    assert (await rig.journal.get(second[0].id)).reason == (
        f"{bracket_sell.SOLD_BY_HAND}{sold.id}: cancelled, the sell took what it covered (orders "
        f"{new_stop.id} and {new_take.id} keep the rest)"
    )
    assert "resized to 0.05 BTC/USDT" in ((await rig.journal.get(first[0].id)).reason or "")
    await broker.poll()
    await rig.assert_reconciled()


async def test_with_two_exit_sets_a_sell_within_the_newest_leaves_the_oldest_alone(rig: Rig) -> None:
    broker, first, second = await _two_sets(rig)

    sold, _ = await _sell(broker, rig, 0.04)

    assert sold.state == "filled"
    for row in first:  # untouched
        assert (await rig.journal.get(row.id)).state == "open"
    new = [row for row in await _exits(rig) if row.id not in {r.id for r in first}]
    assert [row.amount for row in new] == [pytest.approx(0.06)] * 2
    assert (new[0].stop_price, new[1].price) == (second[0].stop_price, second[1].price)
    assert rig.desk.locked["BTC"] == pytest.approx(0.16)
    await rig.assert_reconciled()


async def test_with_two_exit_sets_a_refused_sell_puts_each_set_back_at_its_levels(rig: Rig) -> None:
    broker, first, second = await _two_sets(rig)
    _refuse_market_sells(rig)

    sold, said = await _sell(broker, rig, 0.15)

    assert sold.state == "rejected"
    back = await _exits(rig)
    assert sorted((row.stop_price or row.price, row.amount) for row in back) == sorted(
        (row.stop_price or row.price, pytest.approx(0.1)) for row in [*first, *second]
    )
    assert rig.desk.locked["BTC"] == pytest.approx(0.2)
    assert said.count("placed again for the 0.1 BTC/USDT held as") == 2
    await broker.poll()
    await rig.started()
    assert len(_resting(rig)) == 4
    await rig.assert_reconciled()


async def test_with_two_exit_sets_killed_after_the_cancels_the_next_start_finishes_once(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker, first, _ = await _two_sets(rig)
    monkeypatch.setattr(live_oco, "send_exits", _killed)
    with pytest.raises(Killed):
        await _sell(broker, rig, 0.15)
    monkeypatch.undo()

    restarted = await rig.started()

    sold = await rig.journal.get(client_order_id="sell-by-hand")
    assert sold.state == "filled" and len(_sells(rig)) == 1
    assert [o.quantity for o in _resting(rig)] == [pytest.approx(0.05)] * 2
    assert {o.stop_price or o.price for o in _resting(rig)} == {first[0].stop_price, first[1].price}
    await restarted.poll()
    await rig.started()
    assert len(_sells(rig)) == 1 and len(_resting(rig)) == 2
    await rig.assert_reconciled()


async def test_with_two_exit_sets_killed_and_restarted_too_late_both_sets_are_put_back(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker, first, second = await _two_sets(rig)
    monkeypatch.setattr(live_oco, "send_exits", _killed)  # dies between the cancels and the new exits
    with pytest.raises(Killed):
        await _sell(broker, rig, 0.15)
    assert _resting(rig) == []
    monkeypatch.undo()
    rig.clock.offset += timedelta(seconds=120)

    await rig.started()

    assert _sells(rig) == []
    assert sorted(o.stop_price or o.price for o in _resting(rig)) == sorted(
        row.stop_price or row.price for row in [*first, *second]
    )
    assert [o.quantity for o in _resting(rig)] == [pytest.approx(0.1)] * 4
    await rig.started()
    assert len(_resting(rig)) == 4
    await rig.assert_reconciled()


async def _partly_filled_take(rig: Rig) -> tuple[LiveBroker, OrderRecord, OrderRecord]:
    """The bracketed 0.1 whose take-profit sold 0.04 (the exchange expired its stop at that fill), the
    price still at the take-profit: the daemon waits before re-protecting the 0.06 left."""
    broker, _ = await _bracketed(rig)
    stop, take = await _exits(rig)
    broker._marks[BTC] = 44_000.0  # the price is at the take-profit: its rest is filling
    rig.desk.fill_part(take.client_order_id, 0.04)
    await broker.poll()
    stop, take = await rig.journal.get(stop.id), await rig.journal.get(take.id)
    assert (take.state, take.filled) == ("partially_filled", pytest.approx(0.04))
    assert (stop.state, stop.filled) == ("cancelled", 0.0)
    assert (await broker.ledger()).held(BTC) == pytest.approx(0.06)
    return broker, stop, take


async def test_a_take_profit_filled_in_part_is_replaced_by_a_pair_for_what_the_sell_leaves(rig: Rig) -> None:
    """Before, the sell was refused ("order N has sold 0.04 already"), the rest left with no stop."""
    broker, stop, take = await _partly_filled_take(rig)

    sold, said = await _sell(broker, rig, 0.02)

    assert sold.state == "filled" and sold.filled == pytest.approx(0.02)
    new_stop, new_take = await _exits(rig)
    assert (new_stop.client_order_id, new_take.client_order_id) == live_bracket_sell.derived_ids(
        sold, "resize"
    )
    assert (new_stop.stop_price, new_stop.price, new_take.price) == (stop.stop_price, stop.price, take.price)
    assert [o.quantity for o in _resting(rig)] == [pytest.approx(0.04)] * 2  # a stop again, with the take
    assert rig.desk.locked["BTC"] == pytest.approx(0.04)
    assert (await broker.ledger()).held(BTC) == pytest.approx(0.04)
    assert f"were resized to 0.04 {BTC}" in said
    old = await rig.journal.get(take.id)
    assert (old.state, old.filled) == ("cancelled", pytest.approx(0.04))
    assert (old.reason or "").startswith(f"{bracket_sell.SOLD_BY_HAND}{sold.id}: resized to 0.04")
    broker._marks[BTC] = 40_000.0  # back under the take-profit: the daemon re-protects nothing more
    await broker.poll()
    await rig.started()
    assert len(_resting(rig)) == 2
    with pytest.raises(errors.NotFound):
        await rig.journal.get(client_order_id=live_oco.successor_ids(take)[0])
    await rig.assert_reconciled()


async def test_when_the_daemon_re_protects_the_take_profit_first_the_sell_is_not_sent(rig: Rig) -> None:
    """Its new pair is the position's exits: nothing is placed beside it (never two sets)."""
    broker, _, take = await _partly_filled_take(rig)
    plan = bracket_sell.plan(await _exits(rig), (await broker.ledger()).held(BTC), 0.02)
    assert plan is not None and await broker.why_not_replaceable(plan) is None
    broker._marks[BTC] = 40_000.0
    assert await live_oco.reprotect(broker) != []  # the daemon's poll gets there first

    request = OrderRequest(BTC, Side.SELL, amount=0.02, reference_price=40_000.0, client_order_id="by-hand")
    sold, said = await broker.sell_replacing(request, placed_ts=now_ms(), plan=plan)

    assert sold.state == "cancelled" and _sells(rig) == []
    assert f"the daemon was replacing the rest of take-profit order {take.id}" in said
    assert [o.quantity for o in _resting(rig)] == [pytest.approx(0.06)] * 2  # the daemon's pair alone
    assert {o.client_order_id for o in _resting(rig)} == set(live_oco.successor_ids(take))
    await broker.poll()
    await rig.started()
    assert len(_resting(rig)) == 2 and _sells(rig) == []
    await rig.assert_reconciled()


async def test_the_daemon_leaves_a_take_profit_alone_while_a_sell_by_hand_is_cancelling_it(rig: Rig) -> None:
    """Its poll neither waits on the sell's cancel nor fails: it looks again at the next poll, and finds
    the take-profit replaced by the sell's own exits."""
    broker, _, take = await _partly_filled_take(rig)
    broker._marks[BTC] = 40_000.0
    assert take.id is not None
    async with broker._lock(take.id):  # the sell by hand's cancel holds it
        assert await live_oco.reprotect(broker) == []
    assert (await rig.journal.get(take.id)).state == "partially_filled"


async def test_a_take_profit_filled_in_part_killed_after_its_cancel_is_finished_at_the_next_start(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker, stop, take = await _partly_filled_take(rig)
    monkeypatch.setattr(live_oco, "send_exits", _killed)
    with pytest.raises(Killed):
        await _sell(broker, rig, 0.02)
    assert (await rig.journal.get(take.id)).state == "cancelled" and _sells(rig) == []
    monkeypatch.undo()

    restarted = await rig.started()

    sold = await rig.journal.get(client_order_id="sell-by-hand")
    assert sold.state == "filled" and len(_sells(rig)) == 1
    assert [o.quantity for o in _resting(rig)] == [pytest.approx(0.04)] * 2
    assert (await restarted.ledger()).held(BTC) == pytest.approx(0.04)
    await restarted.poll()
    await rig.started()
    assert len(_sells(rig)) == 1 and len(_resting(rig)) == 2
    with pytest.raises(errors.NotFound):
        await rig.journal.get(client_order_id=live_oco.successor_ids(take)[0])
    await rig.assert_reconciled()


async def test_cancels_are_journaled_as_ours_so_a_kill_before_the_answer_is_not_an_alert(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker, published = await _bracketed(rig)
    stop, _ = await _exits(rig)
    monkeypatch.setattr(broker, "_resolve", _killed)  # dies after asking the cancel, before its answer
    with pytest.raises(Killed):
        await _sell(broker, rig, 0.1)
    assert (await rig.journal.get(stop.id)).reason == exit_cancels.cancelling(
        bracket_sell.pending((await rig.journal.get(client_order_id="sell-by-hand")).id or 0)
    )
    monkeypatch.undo()

    restarted = await rig.started()
    restarted.publish = published.append
    await restarted.poll()

    assert _alerts(published) == []
    sold = await rig.journal.get(client_order_id="sell-by-hand")
    assert sold.state == "filled" and len(_sells(rig)) == 1 and _resting(rig) == []
    await rig.assert_reconciled()


async def test_the_exits_of_a_buy_still_filling_are_not_replaced_by_a_sell(rig: Rig) -> None:
    """They are resized as the buy fills (``live_partial``): the sell is refused, naming why."""
    broker = await rig.started()
    entry = await broker.submit(
        buy(0.1, type=OrderType.LIMIT, price=39_000.0, reference_price=39_000.0, stop_loss=0.05),
        placed_ts=now_ms(),
    )
    rig.desk.fill_part(entry.client_order_id, 0.03)
    await broker.poll()
    exits = await _exits(rig)
    plan = bracket_sell.plan(exits, (await broker.ledger()).held(BTC), 0.01)
    assert plan is not None
    assert await broker.why_not_replaceable(plan) == (
        f"its buy order {entry.id} is still filling (0.03 of 0.1 bought so far) and its exits "
        f"({bracket_sell.names(exits)}) grow with each fill, so they cannot be replaced meanwhile: wait for "
        f"order {entry.id} to fill (`mt orders show {entry.id}`), or cancel the rest of it with "
        f"`mt orders cancel {entry.id}` (its exits keep protecting what it bought), then sell"
    )


async def test_an_exit_that_sold_before_its_cancel_stops_the_sell_and_its_fill_is_booked(rig: Rig) -> None:
    broker, _ = await _bracketed(rig)
    stop, take = await _exits(rig)
    rig.desk.set_price(BTC, 37_900.0)  # the stop fires at the exchange; the daemon has not polled yet

    sold, said = await _sell(broker, rig, 0.04)

    assert sold.state == "cancelled" and sold.reason == f"not sent: its exit order {stop.id} sold first"
    assert _sells(rig) == []  # the position is not what the trader saw: nothing sent
    assert (await rig.journal.get(stop.id or 0)).state == "filled"
    assert (await broker.ledger()).held(BTC) == pytest.approx(0.0, abs=1e-12)
    assert "nothing of the position is left to protect" in said and _resting(rig) == []
    await rig.assert_reconciled()


async def test_without_oco_lists_a_refused_sell_puts_back_the_stop_and_its_kept_take_profit(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_oco, "OCO_VENUES", frozenset())
    broker, _ = await _bracketed(rig)
    [stop] = await _exits(rig)
    [held] = await broker.held_exits()
    _refuse_market_sells(rig)

    sold, said = await _sell(broker, rig, 0.04)

    assert sold.state == "rejected" and "placed again for the 0.1 BTC/USDT held as" in said
    [back] = _resting(rig)  # the stop alone again, for all that is held
    assert (back.type, back.quantity, back.stop_price) == (
        "STOP_LOSS_LIMIT",
        pytest.approx(0.1),
        stop.stop_price,
    )
    assert back.client_order_id == live_bracket_sell.derived_ids(sold, "back")[0]
    [kept] = await broker.held_exits()  # and one take-profit kept by the daemon for it, not two
    assert kept["order_id"] != held["order_id"] and kept["amount"] == pytest.approx(0.1)
    await broker.poll()
    await rig.started()
    assert len(_resting(rig)) == 1 and len(await broker.held_exits()) == 1
    await rig.assert_reconciled()
