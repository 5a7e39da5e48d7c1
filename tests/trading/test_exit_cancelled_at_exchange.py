"""An exit cancelled at the exchange by the trader (on its website), not by MasterTrade.

It was put back at the next poll without a word (a strategy's stop), or left cancelled without a word (a
filled bracketed buy's pair): the trader could not tell whether the position was protected. Now it is
told from a cancel of MasterTrade's own and from one the exchange expired, confirmed by client order id,
placed again at its levels, and said loudly: a warning in the log and a critical alert naming the symbol,
the orders and their client order ids. ``mt orders cancel ID --unprotect`` is the door to remove a
position's exits on purpose: those are not put back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from mastertrade.engine import events
from mastertrade.engine.alerts.rules import EVENT_KINDS
from mastertrade.engine.execution import exit_cancels
from tests.fakes.exchange_trading import TradingExchange
from tests.trading.live_rig import BTC, Rig, bracketed, listen, open_desk, resting_buy
from tests.trading.test_live_protection import Desk

AT_EXCHANGE = exit_cancels.CANCELLED_AT_EXCHANGE


@pytest.fixture
def exchange() -> Iterator[TradingExchange]:
    yield from open_desk()


def _alerts(published: list[events.Event]) -> list[events.RiskBreached]:
    return [e for e in published if isinstance(e, events.RiskBreached) and e.limit == exit_cancels.LIMIT]


async def test_a_strategys_pair_cancelled_on_the_website_is_placed_again_and_said_loudly(
    database: Any, exchange: TradingExchange, caplog: pytest.LogCaptureFixture
) -> None:
    desk = Desk(database, exchange, native=True, stop_loss=0.05, take_profit=0.05)
    try:
        trader = await desk.run()
        await desk.enter(trader)
        [stop] = [o for o in exchange.placed if o.type == "STOP_LOSS_LIMIT"]
        [take] = [o for o in exchange.placed if o.type == "LIMIT_MAKER"]
        journal = trader.account.journal
        old_stop = await journal.get(client_order_id=stop.client_order_id)
        old_take = await journal.get(client_order_id=take.client_order_id)

        exchange.cancel_by_hand(stop.client_order_id)  # the whole list goes, as on Binance
        with caplog.at_level(logging.WARNING):
            await trader.housekeeping()

        [stop2] = [o for o in exchange.placed if o.type == "STOP_LOSS_LIMIT" and o.status == "NEW"]
        [take2] = [o for o in exchange.placed if o.type == "LIMIT_MAKER" and o.status == "NEW"]
        assert (stop2.stop_price, take2.price) == (stop.stop_price, take.price)
        assert stop2.quantity == take2.quantity == pytest.approx(stop.quantity)
        new_stop = await journal.get(client_order_id=stop2.client_order_id)
        new_take = await journal.get(client_order_id=take2.client_order_id)
        for old in (old_stop, old_take):
            row = await journal.get(old.id)
            assert row.state == "cancelled"
            assert row.reason is not None and row.reason.startswith(f"{AT_EXCHANGE}: placed again as ")
            assert f"order {new_stop.id} (client id {new_stop.client_order_id})" in row.reason
        [alert] = _alerts(desk.events)  # one for the list
        assert alert.severity == "critical" and alert.symbol == BTC
        for row in (old_stop, old_take, new_stop, new_take):
            assert f"order {row.id} (client id {row.client_order_id})" in alert.message
        assert "strategy guarded's BTC/USDT position" in alert.message
        assert alert.message in caplog.text
        candidate = EVENT_KINDS["risk_limit"].format(alert)
        assert candidate is not None and candidate.severity == "critical"
        assert candidate.body == alert.message and BTC in candidate.title

        await trader.housekeeping()  # told once; nothing more placed
        assert len(_alerts(desk.events)) == 1 and len(exchange.placed) == 5
    finally:
        await desk.close()


async def test_an_exit_the_exchange_expired_or_the_daemon_replaced_is_not_an_alert(
    database: Any, exchange: TradingExchange
) -> None:
    desk = Desk(database, exchange, native=True, stop_loss=0.05, take_profit=0.05, trailing_stop=0.04)
    try:
        trader = await desk.run()
        buy_order = await desk.enter(trader)
        await desk.close_bar(trader, 40_000.0, 41_000.0, 39_900.0, 40_800.0)  # trails: the pair is replaced
        await trader.housekeeping()
        [take] = [o for o in exchange.placed if o.type == "LIMIT_MAKER" and o.status == "NEW"]
        exchange.fill_part(take.client_order_id, buy_order.executed * 0.4)  # its stop expires
        await trader.housekeeping()
        await desk.close_bar(trader, 40_800.0, 40_900.0, 40_500.0, 40_600.0)
        await trader.housekeeping()
        assert _alerts(desk.events) == []
        reasons = [row.reason or "" for row in await trader.account.journal.orders(book="live")]
        assert not any(reason.startswith(AT_EXCHANGE) for reason in reasons)
    finally:
        await desk.close()


async def test_a_bracketed_buys_pair_cancelled_on_the_website_is_placed_again_once(rig: Rig) -> None:
    broker, published, stop, take = await bracketed(rig)
    rig.desk.cancel_by_hand(take.client_order_id)
    await broker.poll()

    stop2, take2 = rig.desk.placed[-2:]
    assert (stop2.type, take2.type, stop2.status, take2.status) == (
        "STOP_LOSS_LIMIT",
        "LIMIT_MAKER",
        "NEW",
        "NEW",
    )
    assert (stop2.stop_price, stop2.price, take2.price) == (stop.stop_price, stop.price, take.price)
    assert stop2.quantity == take2.quantity == pytest.approx(0.1)
    old_stop = await rig.journal.get(client_order_id=stop.client_order_id)
    new_stop = await rig.journal.get(client_order_id=stop2.client_order_id)
    assert (stop2.client_order_id, take2.client_order_id) == exit_cancels.successor_ids(old_stop)
    assert new_stop.parent_id == old_stop.parent_id and new_stop.role == "stop_loss"
    [alert] = _alerts(published)
    assert f"client id {stop.client_order_id}" in alert.message
    assert f"client id {take.client_order_id}" in alert.message
    assert f"mt orders cancel {new_stop.id} --unprotect" in alert.message
    # each exit's lookup by client id confirmed it cancelled before the new pair went
    asked = [r for r in rig.desk.requests_to("/api/v3/order") if r.method == "GET"]
    assert {stop.client_order_id, take.client_order_id} <= {r.params.get("origClientOrderId") for r in asked}

    await broker.poll()
    await rig.started()  # a start places nothing more
    assert len(rig.desk.placed) == 5 and len(_alerts(published)) == 1
    await rig.assert_reconciled()

    # the door to remove them on purpose: not put back, not an alert
    assert new_stop.id is not None
    cancelled = await broker.cancel(new_stop.id)
    assert cancelled.state == "cancelled"
    await broker.poll()
    new_take = await rig.journal.get(client_order_id=take2.client_order_id)
    assert (new_take.state, new_take.reason) == ("cancelled", "cancelled by hand")
    assert len(rig.desk.placed) == 5 and len(_alerts(published)) == 1


async def test_a_cancel_of_ours_whose_answer_the_daemon_never_read_is_not_taken_for_the_traders(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker, published, stop, take = await bracketed(rig)
    row = await rig.journal.get(client_order_id=stop.client_order_id)
    assert row.id is not None

    class Killed(BaseException):
        pass

    async def killed(*_: Any, **__: Any) -> Any:
        raise Killed

    monkeypatch.setattr(broker, "_resolve", killed)  # the daemon dies after asking, before the lookup
    with pytest.raises(Killed):
        await broker.cancel(row.id, "its position was sold by hand")
    assert stop.status == "CANCELED" and take.status == "CANCELED"

    restarted = await rig.started()
    restarted.publish = published.append
    await restarted.poll()
    assert (await rig.journal.get(row.id)).reason == "its position was sold by hand"
    sibling = await rig.journal.get(client_order_id=take.client_order_id)
    assert (sibling.state, sibling.reason) == ("cancelled", "its position was sold by hand")
    assert len(rig.desk.placed) == 3 and _alerts(published) == []


async def test_the_filled_parts_pair_of_a_resting_buy_cancelled_on_the_website_is_placed_again(
    rig: Rig,
) -> None:
    broker = await rig.started()
    published = listen(broker)
    entry = await resting_buy(broker)
    rig.desk.fill_part(entry.client_order_id, 0.03)
    await broker.poll()
    [stop] = [o for o in rig.desk.placed if o.type == "STOP_LOSS_LIMIT"]
    rig.desk.cancel_by_hand(stop.client_order_id)
    await broker.poll()  # seen cancelled at the exchange
    await broker.poll()  # the entry's filled part gets its pair again
    resting = [o for o in rig.desk.orders.values() if o.side == "SELL" and o.status == "NEW"]
    assert sorted(o.type for o in resting) == ["LIMIT_MAKER", "STOP_LOSS_LIMIT"]
    assert all(o.quantity == pytest.approx(0.03) for o in resting)
    [alert] = _alerts(published)
    assert f"client id {stop.client_order_id}" in alert.message and "placed again as" in alert.message

    rig.desk.set_price(BTC, 38_900.0)  # the rest of the buy fills: one pair for all of it, no more alerts
    await broker.poll()
    resting = [o for o in rig.desk.orders.values() if o.side == "SELL" and o.status == "NEW"]
    assert sorted(o.quantity for o in resting) == pytest.approx([0.1, 0.1])
    assert len(_alerts(published)) == 1
    await rig.assert_reconciled()
