"""The fault matrix of live orders against the fake exchange (the real ccxt binance client on 127.0.0.1).

For every fault, N orders are placed one after another with the fault injected into each; then the
daemon restarts (a fresh broker reconciles), time passes beyond the last moment a request could still
arrive, and the journal is compared with the exchange: every order is there at most once, each journal
state is the exchange's truth (filled with exactly the exchange's trades, or never received when the
exchange has no such order), and the book's balances and position equal the exchange's.

The two crashes here are in-process (intents journaled and never sent; a send cancelled with the order
at the exchange); ``test_live_kill.py`` does both for real, killing a daemon process with SIGKILL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from mastertrade.engine.execution.live import LiveBroker
from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.orders import OrderState
from tests.fakes.exchange_trading import TradingExchange
from tests.trading.live_rig import BTC, Rig, buy

N = 3


@pytest.fixture
def desk_options() -> dict[str, Any]:
    return {"hang_s": 2}


async def _send(rig: Rig, broker: LiveBroker) -> None:
    await broker.submit(buy(0.01), placed_ts=now_ms())


async def _killed_before_send(rig: Rig, broker: LiveBroker) -> None:
    await rig.journal.create_order("live", "live", buy(0.01), placed_ts=now_ms())


async def _killed_after_send(rig: Rig, broker: LiveBroker) -> None:
    rig.desk.after_accept("hang")
    placed = len(rig.desk.placed)
    task = asyncio.create_task(broker.submit(buy(0.01), placed_ts=now_ms()))
    for _ in range(300):
        if len(rig.desk.placed) > placed:
            break
        await asyncio.sleep(0.01)
    task.cancel()  # the process dies with the order at the exchange and its answer on the way
    with pytest.raises(asyncio.CancelledError):
        await task


def _then_send(inject: Callable[[TradingExchange], None]) -> Callable[[Rig, LiveBroker], Any]:
    async def run(rig: Rig, broker: LiveBroker) -> None:
        inject(rig.desk)
        await _send(rig, broker)

    return run


def _nonce(desk: TradingExchange) -> None:
    desk.now = now_ms() + 120_000  # the exchange's clock two minutes ahead: -1021, re-sync, resend


FAULTS: dict[str, Callable[[Rig, LiveBroker], Any]] = {
    "lost answer": _then_send(lambda desk: desk.after_accept("drop")),
    "hang past the deadline after resends": _then_send(
        lambda desk: (desk.fail(429, times=2, path="/api/v3/order"), desk.after_accept("hang"))
    ),
    "5xx after accepting": _then_send(lambda desk: desk.after_accept("503")),
    "5xx before reading": _then_send(lambda desk: desk.fail(500, path="/api/v3/order")),
    "429 storm": _then_send(lambda desk: desk.fail(429, times=3, path="/api/v3/order")),
    "dropped connection": _then_send(lambda desk: desk.drop(path="/api/v3/order")),
    "invalid nonce": _then_send(_nonce),
    "crash between journal and send": _killed_before_send,
    "crash after send": _killed_after_send,
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_every_order_ends_as_the_exchange_has_it(rig: Rig, fault: str) -> None:
    broker = await rig.started()
    for _ in range(N):
        await FAULTS[fault](rig, broker)
        rig.desk.now = None
    await rig.started()  # the daemon restarts: reconcile
    rig.clock.offset = timedelta(seconds=broker.arrival_window_s + 1)
    final = await rig.started()  # a later start, once no request can still arrive
    await final.poll()

    rows = await rig.journal.orders(book="live")
    assert len(rows) == N
    for row in rows:
        at_exchange = rig.desk.orders_for(row.client_order_id)
        assert len(at_exchange) <= 1, f"{fault}: {row.client_order_id} placed twice"
        if at_exchange:
            [desk_order] = at_exchange
            assert row.state == OrderState.FILLED, (fault, row.state, row.reason)
            assert row.filled == pytest.approx(desk_order.executed)
            fills = await rig.journal.fills(order_id=row.id)
            assert sorted(fill.trade_id for fill in fills) == sorted(str(t["id"]) for t in desk_order.trades)
        else:
            assert row.state == OrderState.REJECTED, (fault, row.state)
            assert "never reached" in (row.reason or "") or fault == "crash between journal and send"
    if fault not in ("dropped connection", "5xx before reading"):
        assert len(rig.desk.placed) == N  # each of the N orders reached the exchange exactly once
    ledger = await final.ledger()
    assert ledger.held(BTC) == pytest.approx(rig.desk.balance("BTC"), abs=1e-9)
    assert ledger.balance("USDT") == pytest.approx(rig.desk.balance("USDT"), abs=1e-6)
    await rig.assert_reconciled()


async def test_a_request_that_arrives_after_it_was_declared_lost_is_booked_as_a_correction(rig: Rig) -> None:
    broker = await rig.started()
    rig.desk.drop(path="/api/v3/order")  # the request is stuck somewhere on the way
    row = await broker.submit(buy(0.05), placed_ts=now_ms())
    assert row.state == "unknown"
    rig.clock.offset = timedelta(seconds=broker.arrival_window_s + 1)
    await broker.poll()
    assert (await rig.journal.get(row.id)).state == "rejected"
    # ... and arrives after all (a proxy that held it): the exchange fills it.
    rig.desk.accept(BTC, "BUY", "MARKET", 0.05, None, row.client_order_id)
    outcome = await broker.poll()
    corrected = await rig.journal.get(row.id)
    assert corrected.state == "filled" and corrected.filled == pytest.approx(0.05)
    assert "corrected by the exchange" in (corrected.reason or "")
    assert [fill.order_id for fill in outcome.fills] == [row.id]
    assert (await broker.ledger()).held(BTC) == pytest.approx(0.05)
    await rig.assert_reconciled()


async def test_a_restart_attributes_a_late_fill_to_its_order_by_client_id(rig: Rig) -> None:
    broker = await rig.started()
    rig.desk.drop(path="/api/v3/order")
    row = await broker.submit(buy(0.05), placed_ts=now_ms())
    rig.clock.offset = timedelta(seconds=broker.arrival_window_s + 1)
    await broker.poll()
    rig.desk.accept(BTC, "BUY", "MARKET", 0.05, None, row.client_order_id)
    restarted = await rig.started()  # the daemon was down when it arrived
    assert (await rig.journal.get(row.id)).state == "filled"
    entries = await rig.journal.ledger_entries("live")
    assert [e.amount for e in entries] == [100_000.0]  # no anonymous balance adjustment
    assert (await restarted.ledger()).held(BTC) == pytest.approx(0.05)


async def test_submit_answers_promptly_while_the_send_waits_and_the_poll_leaves_it_alone(rig: Rig) -> None:
    broker = await rig.started()
    broker.answer_within_s = 0.2
    rig.desk.after_accept("hang")  # accepted, the answer never comes (the client times out after 1 s)
    row = await broker.submit(buy(0.1), placed_ts=now_ms())
    assert row.state == "sent"  # answered at once with the order as it stands
    outcome = await broker.poll()  # the housekeeping poll while the send is still out: no race
    assert outcome.fills == []
    for _ in range(500):
        if (await rig.journal.get(row.id)).state == "filled":
            break
        await asyncio.sleep(0.01)
    assert (await rig.journal.get(row.id)).state == "filled"
    outcome = await broker.poll()
    assert [fill.order_id for fill in outcome.fills] == [row.id]  # the late fill reaches the trader
    assert len(rig.desk.orders_for(row.client_order_id)) == 1
    await rig.assert_reconciled()


async def test_a_resend_moves_the_deadline(rig: Rig) -> None:
    """A create answered 429 may have been booked: it is sent again only once its arrival window proves it
    absent (not at once, as before), and that resend is the order's newest attempt, from which the window
    of its own (lost) answer runs."""
    broker = await rig.started()
    rig.desk.fail(429, path="/api/v3/order")
    row = await broker.submit(buy(0.01), placed_ts=now_ms())
    first = await rig.journal.get(row.id)
    assert first.state == "unknown" and first.sent_at is not None
    rig.clock.offset = timedelta(seconds=broker.arrival_window_s + 1)
    rig.desk.after_accept("drop")
    await broker.poll()
    posts = [r for r in rig.desk.requests_to("/api/v3/order") if r.method == "POST"]
    assert len(posts) == 2
    settled = await rig.journal.get(row.id)
    assert settled.state == "filled" and settled.sent_at is not None
    assert settled.sent_at >= first.sent_at + rig.clock.offset  # the newest attempt, not the first
    await rig.assert_reconciled()


async def test_dust_never_reaches_the_journal(rig: Rig) -> None:
    from mastertrade import errors

    broker = await rig.started()
    with pytest.raises(errors.UserInputError, match="dust"):
        await broker.submit(buy(0.0001, reference_price=40_000.0), placed_ts=now_ms())  # 4 < 5 USDT
    assert await rig.journal.orders(book="live") == []
    assert rig.desk.placed == []


OCO_PATH = "/api/v3/orderList/oco"
OCO_FAULTS: dict[str, Callable[[TradingExchange], Any]] = {
    "lost answer": lambda desk: desk.after_accept("drop"),
    "hang past the deadline after resends": lambda desk: (
        desk.fail(429, times=2, path=OCO_PATH),
        desk.after_accept("hang"),
    ),
    "5xx after accepting": lambda desk: desk.after_accept("503"),
    "429 after accepting": lambda desk: desk.after_accept("429"),  # a resend is refused as a duplicate
    "5xx before reading": lambda desk: desk.fail(500, path=OCO_PATH),
    "429 storm": lambda desk: desk.fail(429, times=3, path=OCO_PATH),
    "dropped connection": lambda desk: desk.drop(path=OCO_PATH),
    "invalid nonce": _nonce,
}


@pytest.mark.parametrize("fault", list(OCO_FAULTS))
async def test_every_oco_list_ends_as_the_exchange_has_it(rig: Rig, fault: str) -> None:
    from mastertrade.engine.orders import OrderRequest, OrderType, Side

    broker = await rig.started()
    await broker.submit(buy(0.01 * N + 0.01), placed_ts=now_ms())
    for _ in range(N):
        OCO_FAULTS[fault](rig.desk)
        await broker.submit_oco(
            OrderRequest(BTC, Side.SELL, OrderType.STOP, amount=0.01, stop_price=38_000.0, role="stop_loss"),
            OrderRequest(BTC, Side.SELL, OrderType.LIMIT, amount=0.01, price=44_000.0, role="take_profit"),
            placed_ts=now_ms(),
        )
        rig.desk.now = None
    await rig.started()
    rig.clock.offset = timedelta(seconds=broker.arrival_window_s + 1)
    final = await rig.started()
    await final.poll()
    for _ in range(final.venue.retry.max_retries + 1):
        # A 429 proves nothing: a list answered so is sent again only once its window proves it absent.
        if all(row.state != "unknown" for row in await rig.journal.orders(book="live")):
            break
        rig.clock.offset += timedelta(seconds=broker.arrival_window_s + 1)
        await final.poll()

    legs = [row for row in await rig.journal.orders(book="live") if row.oco is not None]
    assert len(legs) == 2 * N
    for row in legs:
        at_exchange = rig.desk.orders_for(row.client_order_id)
        assert len(at_exchange) <= 1, f"{fault}: {row.client_order_id} placed twice"
        if at_exchange:
            assert row.state == "open" and row.exchange_order_id == str(at_exchange[0].order_id), (fault, row)
        else:
            assert row.state == "rejected" and "never reached" in (row.reason or ""), (fault, row.state)
    lists = {o.list_id for o in rig.desk.placed if o.list_id >= 0}
    if fault not in ("dropped connection", "5xx before reading"):
        assert len(lists) == N  # each pair reached the exchange exactly once
    assert len([o for o in rig.desk.placed if o.list_id >= 0]) == 2 * len(lists)
    ledger = await final.ledger()
    assert ledger.held(BTC) == pytest.approx(rig.desk.balance("BTC"), abs=1e-9)
    await rig.assert_reconciled()
