"""The filled part of a bracketed live limit buy is protected at the exchange while the rest still rests.

A limit buy of 0.1 BTC at 39,000 with a stop-loss and a take-profit rests while the price is at 40,000;
a seller takes part of it. The exits were sent only once the buy ended, so the part already bought had
no stop at the exchange and the daemon did not watch it either. Now each fill gets an OCO pair for what
the buy holds so far (stop 37,050, take-profit 42,900, from the average fill), resized (cancel, then a
new pair) as more fills come, and one pair for the whole amount once the buy ends, never two pairs
holding the same coins, even across a kill -9 between the cancel and the new pair.
"""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.engine.execution import live_oco
from mastertrade.engine.execution.live import LiveBroker
from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.orders import OrderState, OrderType
from tests.fakes.exchange_trading import DeskOrder
from tests.trading.live_rig import BTC, Rig, buy


@pytest.fixture
def desk_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    return {"hang_s": 2, **getattr(request, "param", {})}


async def _entry(rig: Rig) -> tuple[LiveBroker, Any]:
    broker = await rig.started()
    entry = await broker.submit(
        buy(
            0.1,
            type=OrderType.LIMIT,
            price=39_000.0,
            reference_price=39_000.0,
            stop_loss=0.05,
            take_profit=0.1,
        ),
        placed_ts=now_ms(),
    )
    assert entry.state == OrderState.OPEN and entry.id is not None
    return broker, entry


def _resting_exits(rig: Rig) -> list[DeskOrder]:
    return [
        o for o in rig.desk.orders.values() if o.side == "SELL" and o.status in ("NEW", "PARTIALLY_FILLED")
    ]


def _assert_one_pair(rig: Rig, amount: float) -> None:
    """One OCO pair for ``amount`` rests at the exchange, at the levels from the fill, holding it all."""
    resting = sorted(_resting_exits(rig), key=lambda o: o.type)
    assert [o.type for o in resting] == ["LIMIT_MAKER", "STOP_LOSS_LIMIT"], resting
    take, stop = resting
    assert take.list_id == stop.list_id >= 0
    assert take.quantity == stop.quantity == pytest.approx(amount, abs=1e-12)
    assert stop.stop_price == pytest.approx(37_050.0) and take.price == pytest.approx(42_900.0)
    assert rig.desk.locked.get("BTC", 0.0) == pytest.approx(amount, abs=1e-12)


async def test_each_fill_of_the_rest_resizes_the_pair_and_the_full_fill_has_one_pair(rig: Rig) -> None:
    broker, entry = await _entry(rig)
    rig.desk.fill_part(entry.client_order_id, 0.03)
    await broker.poll()
    assert (await rig.journal.get(entry.id)).state == OrderState.PARTIALLY_FILLED
    _assert_one_pair(rig, 0.03)  # before the rest fills

    rig.desk.fill_part(entry.client_order_id, 0.04)
    await broker.poll()
    _assert_one_pair(rig, 0.07)

    rig.desk.set_price(BTC, 38_900.0)  # the rest of the buy fills
    await broker.poll()
    assert (await rig.journal.get(entry.id)).state == OrderState.FILLED
    _assert_one_pair(rig, 0.1)
    exits = [row for row in await rig.journal.orders(book="live") if row.parent_id == entry.id]
    assert sorted(row.state for row in exits if OrderState(row.state).working) == ["open", "open"]
    assert rig.errors == []

    rig.desk.set_price(BTC, 36_900.0)  # the stop sells it all
    await broker.poll()
    assert (await broker.ledger()).held(BTC) == pytest.approx(0.0, abs=1e-12)
    await rig.assert_reconciled()


async def test_cancelling_the_rest_leaves_one_pair_for_what_was_filled(rig: Rig) -> None:
    broker, entry = await _entry(rig)
    rig.desk.fill_part(entry.client_order_id, 0.03)
    await broker.poll()
    _assert_one_pair(rig, 0.03)
    rig.desk.fill_part(entry.client_order_id, 0.02)
    cancelled = await broker.cancel(entry.id)
    assert cancelled.state == OrderState.CANCELLED and cancelled.filled == pytest.approx(0.05)
    _assert_one_pair(rig, 0.05)
    await broker.poll()
    _assert_one_pair(rig, 0.05)
    await rig.assert_reconciled()


async def test_a_kill_between_the_cancel_and_the_new_pair_recovers_at_the_next_start(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker, entry = await _entry(rig)
    rig.desk.fill_part(entry.client_order_id, 0.03)
    await broker.poll()
    _assert_one_pair(rig, 0.03)

    class Killed(BaseException):
        """The process dies here (kill -9): nothing after it runs."""

    async def killed(*_: Any, **__: Any) -> Any:
        raise Killed

    monkeypatch.setattr(live_oco, "send_pair", killed)  # the old pair is cancelled, then the kill
    rig.desk.fill_part(entry.client_order_id, 0.04)
    with pytest.raises(Killed):
        await broker.poll()
    monkeypatch.undo()
    assert _resting_exits(rig) == []  # the old pair is gone; the new one is journaled, not sent
    placed = len(rig.desk.placed)

    restarted = await rig.started()
    _assert_one_pair(rig, 0.07)
    assert len(rig.desk.placed) == placed + 2  # the new pair went out once
    await restarted.poll()
    await rig.started()
    _assert_one_pair(rig, 0.07)
    assert len(rig.desk.placed) == placed + 2

    rig.desk.set_price(BTC, 38_900.0)
    await restarted.poll()
    _assert_one_pair(rig, 0.1)
    await rig.assert_reconciled()


async def test_a_kill_after_the_new_pair_is_journaled_cancels_the_old_one_before_sending(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker, entry = await _entry(rig)
    rig.desk.fill_part(entry.client_order_id, 0.03)
    await broker.poll()
    _assert_one_pair(rig, 0.03)

    class Killed(BaseException):
        """The process dying here (a BaseException, so nothing in the broker catches it)."""

    async def killed(*_: Any, **__: Any) -> Any:
        raise Killed

    monkeypatch.setattr(broker, "cancel", killed)  # journaled the new pair, then the kill
    rig.desk.fill_part(entry.client_order_id, 0.04)
    with pytest.raises(Killed):
        await broker.poll()
    monkeypatch.undo()
    _assert_one_pair(rig, 0.03)  # the old pair still rests, the new one waits in the journal

    await rig.started()
    _assert_one_pair(rig, 0.07)
    await rig.assert_reconciled()


async def test_without_oco_the_filled_part_has_its_stop_alone_and_the_take_profit_is_held_at_the_end(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_oco, "OCO_VENUES", frozenset())  # a venue with stops but no OCO lists
    broker, entry = await _entry(rig)
    rig.desk.fill_part(entry.client_order_id, 0.03)
    await broker.poll()
    [stop] = _resting_exits(rig)
    assert (stop.type, stop.list_id, stop.stop_price) == ("STOP_LOSS_LIMIT", -1, pytest.approx(37_050.0))
    assert stop.quantity == pytest.approx(0.03)
    assert await broker.held_exits() == []  # the take-profit waits for the buy to end

    rig.desk.fill_part(entry.client_order_id, 0.04)
    await broker.poll()
    [stop] = _resting_exits(rig)
    assert stop.quantity == pytest.approx(0.07)

    rig.desk.set_price(BTC, 38_900.0)
    await broker.poll()
    [stop] = _resting_exits(rig)
    assert stop.quantity == pytest.approx(0.1) and stop.type == "STOP_LOSS_LIMIT"
    [held] = await broker.held_exits()
    assert held["price"] == pytest.approx(42_900.0) and held["amount"] == pytest.approx(0.1)
    assert rig.errors == []
    await rig.assert_reconciled()


async def test_exits_of_the_filled_part_cancelled_by_hand_are_not_put_back_until_the_buy_ends(
    rig: Rig,
) -> None:
    broker, entry = await _entry(rig)
    rig.desk.fill_part(entry.client_order_id, 0.03)
    await broker.poll()
    _assert_one_pair(rig, 0.03)
    [stop] = [
        row
        for row in await rig.journal.orders(book="live", states=[OrderState.OPEN])
        if row.parent_id == entry.id and row.role == "stop_loss"
    ]
    assert stop.id is not None
    await broker.cancel(stop.id)  # mt orders cancel ID --unprotect
    await broker.poll()
    rig.desk.fill_part(entry.client_order_id, 0.02)
    await broker.poll()
    assert _resting_exits(rig) == []

    rig.desk.set_price(BTC, 38_900.0)
    await broker.poll()
    _assert_one_pair(rig, 0.1)
    await rig.assert_reconciled()


@pytest.mark.parametrize("desk_options", [{"fee_asset": "BTC"}], indirect=True)
async def test_the_pair_of_the_filled_part_sells_what_it_brought_in_after_a_fee_in_coins(rig: Rig) -> None:
    broker, entry = await _entry(rig)
    rig.desk.fill_part(entry.client_order_id, 0.03)
    await broker.poll()
    _assert_one_pair(rig, 0.02997)  # 0.03 less the 0.1% fee taken from the coins
    rig.desk.set_price(BTC, 38_900.0)
    await broker.poll()
    _assert_one_pair(rig, 0.0999)
    await rig.assert_reconciled()


async def test_a_take_profit_of_the_filled_part_that_sold_some_leaves_the_final_pair_the_rest(
    rig: Rig,
) -> None:
    broker, entry = await _entry(rig)
    rig.desk.fill_part(entry.client_order_id, 0.03)
    await broker.poll()
    [take] = [o for o in _resting_exits(rig) if o.type == "LIMIT_MAKER"]
    rig.desk.fill_part(take.client_order_id, 0.01)  # a buyer takes part; the exchange expires the stop
    broker._marks[BTC] = 40_000.0
    await broker.poll()
    _assert_one_pair(rig, 0.02)  # the rest of the part is protected again

    rig.desk.set_price(BTC, 38_900.0)  # the buy fills
    await broker.poll()
    _assert_one_pair(rig, 0.09)  # all it bought, less what the take-profit sold
    await rig.assert_reconciled()
