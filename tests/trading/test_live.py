"""The live broker against the fake exchange (the real ccxt binance client on 127.0.0.1), with faults.

After every fault: exactly one order per intent at the exchange (or none, when the request provably never
got there), the journal agrees with the exchange, and a fresh start finds nothing to adjust.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest

from mastertrade import errors
from mastertrade.config import ExchangeSettings
from mastertrade.engine.execution.broker import LiveConsent, require_live, trading_mode
from mastertrade.engine.execution.journal import Journal
from mastertrade.engine.execution.live import LiveBroker
from mastertrade.engine.market.ccxt_venue import CcxtVenue
from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.orders import OrderRequest, OrderState, OrderType, Side
from tests.fakes.exchange import FAST_CCXT, venue_settings
from tests.fakes.exchange_trading import API_KEY, SECRET, TradingExchange
from tests.trading.live_rig import BTC, Rig, buy


async def test_a_market_order_fills_and_the_book_reconciles(rig: Rig) -> None:
    broker = await rig.started()
    assert (await broker.ledger()).balance("USDT") == 100_000.0  # trued up from the exchange
    row = await broker.submit(buy(0.1), placed_ts=now_ms())
    assert row.state == "filled" and row.filled == pytest.approx(0.1) and row.exchange_order_id
    [fill] = await rig.journal.fills(order_id=row.id)
    assert fill.price == 40_000.0 and fill.fee == pytest.approx(4.0) and fill.fee_asset == "USDT"
    ledger = await broker.ledger()
    assert ledger.held(BTC) == pytest.approx(0.1)
    assert ledger.balance("USDT") == pytest.approx(100_000 - 4_000 - 4)
    posted = rig.desk.requests_to("/api/v3/order")
    assert [r.params["newClientOrderId"] for r in posted if r.method == "POST"] == [row.client_order_id]
    await rig.assert_reconciled()


@pytest.mark.parametrize("fault", ["drop", "503", "hang"])
async def test_an_answer_lost_after_the_exchange_accepted_is_resolved_not_resent(
    rig: Rig, fault: str
) -> None:
    broker = await rig.started()
    rig.desk.after_accept(fault)  # type: ignore[arg-type]
    row = await broker.submit(buy(0.2), placed_ts=now_ms())
    assert row.state == "filled" and row.filled == pytest.approx(0.2)
    assert len(rig.desk.orders_for(row.client_order_id)) == 1
    assert len([r for r in rig.desk.requests_to("/api/v3/order") if r.method == "POST"]) == 1
    assert rig.errors  # counted for the exchange-errors breaker
    await rig.assert_reconciled()


async def test_a_market_order_booked_behind_a_rate_limit_is_looked_up_not_resent(rig: Rig) -> None:
    broker = await rig.started()
    rig.desk.after_accept("429")  # booked and filled, yet answered as rate-limited
    row = await broker.submit(buy(0.2), placed_ts=now_ms())
    # Filled, it no longer counts as a duplicate at the exchange: a resend would buy a second time.
    assert [o.status for o in rig.desk.orders_for(row.client_order_id)] == ["FILLED"]
    assert len([r for r in rig.desk.requests_to("/api/v3/order") if r.method == "POST"]) == 1
    assert row.state == OrderState.FILLED and row.filled == pytest.approx(0.2)
    await rig.assert_reconciled()


async def test_a_resend_refused_as_a_duplicate_is_looked_up_not_rejected(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create answered 429 is not resent at once (a gateway may answer so after booking it): only once
    lookups over its arrival window miss it. Lookups that kept missing an order the exchange holds lead
    to a resend it refuses as a duplicate: the order is looked up then, not rejected."""
    broker = await rig.started()
    looked_up = broker._lookup
    misses = [None, None]

    async def lagging(row: Any) -> Any:  # the lookups over the arrival window do not see the order
        return misses.pop() if misses else await looked_up(row)

    monkeypatch.setattr(broker, "_lookup", lagging)
    rig.desk.after_accept("429")  # booked, yet answered as rate-limited
    row = await broker.submit(buy(0.2, type=OrderType.LIMIT, price=39_000.0), placed_ts=now_ms())
    assert row.id is not None and row.state == OrderState.UNKNOWN, row.reason
    rig.clock.offset = timedelta(seconds=broker.arrival_window_s + 1)
    await broker.poll()  # the window proves it absent (so the lookup says): sent again, same client id
    posts = [r for r in rig.desk.requests_to("/api/v3/order") if r.method == "POST"]
    assert len(posts) == 2  # the resend, which the exchange refused: "Duplicate order sent."
    assert {r.params["newClientOrderId"] for r in posts} == {row.client_order_id}
    row = await rig.journal.get(row.id)
    assert row.state == OrderState.OPEN and row.exchange_order_id is not None, row.reason
    assert [o.status for o in rig.desk.orders_for(row.client_order_id)] == ["NEW"]
    rig.clock.offset += timedelta(seconds=broker.arrival_window_s + 1)
    await broker.poll()  # never sent a third time
    assert len([r for r in rig.desk.requests_to("/api/v3/order") if r.method == "POST"]) == 2
    await rig.assert_reconciled()


async def test_a_rate_limit_storm_is_ridden_out(rig: Rig) -> None:
    """Every 429 to the create proves nothing (a gateway may answer so after booking it), so the order is
    sent again only once its arrival window proves it absent, not at the retry policy's next attempt:
    the storm ends with the order placed once, each resend after a lookup by client id."""
    broker = await rig.started()
    rig.desk.fail(429, times=3, path="/api/v3/order")
    row = await broker.submit(buy(0.1), placed_ts=now_ms())
    assert row.id is not None
    for _ in range(5):
        if row.state.final:
            break
        assert row.state == OrderState.UNKNOWN, row.reason
        rig.clock.offset += timedelta(seconds=broker.arrival_window_s + 1)
        await broker.poll()
        row = await rig.journal.get(row.id)
    assert row.state == "filled"
    assert len(rig.desk.orders_for(row.client_order_id)) == 1
    # Every resend follows a lookup by client id (the 429s fall on lookups and sends alike).
    calls = [r.method for r in rig.desk.requests_to("/api/v3/order")]
    assert calls[0] == "POST" and calls.count("POST") >= 2
    assert all(calls[i - 1] == "GET" for i, method in enumerate(calls) if method == "POST" and i > 0)
    await rig.assert_reconciled()


async def test_a_create_rate_limited_at_every_send_is_declared_never_received_not_sent_for_ever(
    rig: Rig,
) -> None:
    """The sends after rate limits are counted: once the exchange's retries are used up and the last
    window proves the order absent, it is declared never received (not sent a sixth time)."""
    broker = await rig.started()
    most = broker.venue.retry.max_retries + 1
    rig.desk.fail(429, path="/api/v3/order")
    row = await broker.submit(buy(0.1), placed_ts=now_ms())
    assert row.id is not None
    for _ in range(most - 1):
        rig.desk.fail(429, path="/api/v3/order", after=1)  # the resend, after the lookup that misses
        rig.clock.offset += timedelta(seconds=broker.arrival_window_s + 1)
        await broker.poll()
        assert (await rig.journal.get(row.id)).state == OrderState.UNKNOWN
    for _ in range(2):
        rig.clock.offset += timedelta(seconds=broker.arrival_window_s + 1)
        await broker.poll()
    row = await rig.journal.get(row.id)
    assert row.state == OrderState.REJECTED and "never reached the exchange" in (row.reason or ""), row.reason
    assert len([r for r in rig.desk.requests_to("/api/v3/order") if r.method == "POST"]) == most
    assert rig.desk.orders_for(row.client_order_id) == []
    await rig.assert_reconciled()


async def test_an_oco_list_answered_429_is_sent_again_only_once_its_window_proves_it_absent(
    rig: Rig,
) -> None:
    """A 429 to an OCO exit list proves nothing: its legs are unknown and looked up, the list is not sent
    again at once. Once their arrival window is over and neither leg is at the exchange, the list is
    sent again with the same client ids, and both legs rest there once."""
    broker = await rig.started()
    await broker.submit(buy(0.05), placed_ts=now_ms())
    rig.desk.fail(429, path="/api/v3/orderList/oco")  # refused before the exchange read it
    stop, take = await broker.submit_oco(
        OrderRequest(BTC, Side.SELL, OrderType.STOP, amount=0.05, stop_price=38_000.0, role="stop_loss"),
        OrderRequest(BTC, Side.SELL, OrderType.LIMIT, amount=0.05, price=44_000.0, role="take_profit"),
        placed_ts=now_ms(),
    )
    assert stop.id is not None and take.id is not None
    assert [stop.state, take.state] == [OrderState.UNKNOWN] * 2, (stop.reason, take.reason)
    await broker.poll()  # its window is still open: looked up, not sent again
    assert len([r for r in rig.desk.requests_to("/api/v3/orderList/oco") if r.method == "POST"]) == 1
    rig.clock.offset = timedelta(seconds=broker.arrival_window_s + 1)
    await broker.poll()
    posts = [r for r in rig.desk.requests_to("/api/v3/orderList/oco") if r.method == "POST"]
    assert len(posts) == 2
    assert {(r.params["aboveClientOrderId"], r.params["belowClientOrderId"]) for r in posts} == {
        (take.client_order_id, stop.client_order_id)
    }
    rows = [await rig.journal.get(stop.id), await rig.journal.get(take.id)]
    assert [row.state for row in rows] == [OrderState.OPEN] * 2, [row.reason for row in rows]
    assert len({o.list_id for o in rig.desk.placed if o.list_id >= 0}) == 1
    rig.clock.offset += timedelta(seconds=broker.arrival_window_s + 1)
    await broker.poll()  # never sent a third time
    assert len([r for r in rig.desk.requests_to("/api/v3/orderList/oco") if r.method == "POST"]) == 2
    await rig.assert_reconciled()


async def test_an_invalid_nonce_resyncs_the_clock_and_sends_once(rig: Rig) -> None:
    broker = await rig.started()
    rig.desk.now = now_ms() + 120_000  # the exchange's clock runs two minutes ahead of ours
    row = await broker.submit(buy(0.1), placed_ts=now_ms())
    rig.desk.now = None
    assert row.state == "filled"
    assert len(rig.desk.orders_for(row.client_order_id)) == 1
    assert len(rig.desk.requests_to("/api/v3/time")) == 1


async def test_insufficient_funds_is_rejected_and_never_retried(rig: Rig) -> None:
    broker = await rig.started()
    row = await broker.submit(buy(10.0), placed_ts=now_ms())  # 400k of 100k
    assert row.state == "rejected" and "insufficient funds" in (row.reason or "")
    assert rig.desk.placed == []
    assert len([r for r in rig.desk.requests_to("/api/v3/order") if r.method == "POST"]) == 1
    await rig.assert_reconciled()


async def test_a_dropped_connection_stays_unknown_until_the_window_proves_it_never_arrived(rig: Rig) -> None:
    broker = await rig.started()
    rig.desk.drop(path="/api/v3/order")  # dropped before the exchange read it
    row = await broker.submit(buy(0.1), placed_ts=now_ms())
    assert row.state == "unknown"  # it could still arrive: not declared lost, not sent again
    await broker.poll()
    assert (await rig.journal.get(row.id)).state == "unknown"
    rig.clock.offset = timedelta(seconds=broker.arrival_window_s + 1)
    await broker.poll()
    settled = await rig.journal.get(row.id)
    assert settled.state == "rejected" and "never reached the exchange" in (settled.reason or "")
    assert rig.desk.orders_for(row.client_order_id) == []
    assert len([r for r in rig.desk.requests_to("/api/v3/order") if r.method == "POST"]) == 1
    await rig.assert_reconciled()


async def test_killed_between_journal_and_send(rig: Rig) -> None:
    first = await rig.started()
    # The daemon journaled the intent and died before sending it.
    intent, _ = await rig.journal.create_order("live", "live", buy(0.1), placed_ts=now_ms())
    del first
    restarted = await rig.started()
    row = await rig.journal.get(intent.id)
    assert row.state == "filled"
    assert len(rig.desk.orders_for(intent.client_order_id)) == 1
    assert (await restarted.ledger()).held(BTC) == pytest.approx(0.1)
    await rig.assert_reconciled()


async def test_a_stale_intent_is_cancelled_not_sent(rig: Rig) -> None:
    await rig.started()
    intent, _ = await rig.journal.create_order("live", "live", buy(0.1), placed_ts=now_ms())
    rig.clock.offset = timedelta(minutes=5)
    await rig.started()
    row = await rig.journal.get(intent.id)
    assert row.state == "cancelled" and "stale intent" in (row.reason or "")
    assert rig.desk.placed == []


async def test_killed_between_send_and_answer(rig: Rig) -> None:
    broker = await rig.started()
    rig.desk.after_accept("hang")
    task = asyncio.create_task(broker.submit(buy(0.3), placed_ts=now_ms()))
    for _ in range(200):
        if rig.desk.placed:
            break
        await asyncio.sleep(0.01)
    task.cancel()  # the daemon dies while the exchange holds the order and the answer is on its way
    with pytest.raises(asyncio.CancelledError):
        await task
    [row] = await rig.journal.orders(book="live")
    assert row.state == "sent"
    restarted = await rig.started()
    row = await rig.journal.get(row.id)
    assert row.state == "filled" and row.filled == pytest.approx(0.3)
    assert len(rig.desk.orders_for(row.client_order_id)) == 1
    assert (await restarted.ledger()).held(BTC) == pytest.approx(0.3)
    await rig.assert_reconciled()


async def test_limit_orders_rest_fill_and_cancel(rig: Rig) -> None:
    broker = await rig.started()
    resting = await broker.submit(buy(0.1, type=OrderType.LIMIT, price=39_000.0), placed_ts=now_ms())
    other = await broker.submit(buy(0.1, type=OrderType.LIMIT, price=38_000.0), placed_ts=now_ms())
    assert resting.state == "open" and other.state == "open"
    rig.desk.set_price(BTC, 38_900.0)
    outcome = await broker.poll()
    assert [f.order_id for f in outcome.fills] == [resting.id]
    assert (await rig.journal.get(resting.id)).state == "filled"
    cancelled = await broker.cancel(other.id)  # type: ignore[arg-type]
    assert cancelled.state == "cancelled"
    with pytest.raises(errors.OperationFailed, match="is already cancelled .*: nothing to cancel"):
        await broker.cancel(other.id)  # type: ignore[arg-type]
    await rig.assert_reconciled()


async def test_money_moved_outside_is_recorded_with_its_reason(rig: Rig) -> None:
    await rig.started()
    rig.desk.free["USDT"] += 2_500.0  # a deposit
    broker = await rig.started()
    entries = await rig.journal.ledger_entries("live")
    assert [entry.amount for entry in entries] == [100_000.0, 2_500.0]
    assert all("reconcile" in entry.reason for entry in entries)
    assert (await broker.ledger()).balance("USDT") == 102_500.0


async def test_keys_never_reach_the_logs(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="mastertrade")
    caplog.set_level(logging.DEBUG, logger="ccxt")
    broker = await rig.started()
    rig.desk.after_accept("503")
    await broker.submit(buy(0.1), placed_ts=now_ms())
    await broker.submit(buy(100.0), placed_ts=now_ms())  # rejected
    assert caplog.records
    assert API_KEY not in caplog.text and SECRET not in caplog.text


def test_live_needs_both_switches() -> None:
    assert trading_mode("paper", False) == "paper"
    assert trading_mode("live", True) == "live"
    with pytest.raises(errors.UserInputError, match="--live"):
        trading_mode("live", False)
    with pytest.raises(errors.UserInputError, match='mode = "live"'):
        trading_mode("paper", True)
    assert isinstance(require_live("live", True), LiveConsent)


async def test_no_live_broker_without_consent(database: Any, desk: TradingExchange) -> None:
    venue = CcxtVenue(
        ExchangeSettings(**venue_settings(desk, api_key=API_KEY, secret=SECRET)), options=FAST_CCXT
    )
    try:
        with pytest.raises(errors.UserInputError):
            LiveBroker(Journal(database), venue, object())  # type: ignore[arg-type]
    finally:
        await venue.close()
    assert desk.requests == []


def test_states_reached_are_the_model_s() -> None:
    assert {state.value for state in OrderState} >= {"intent", "sent", "unknown", "filled", "rejected"}


async def test_the_account_trades_live_through_the_trader_and_errors_trip_the_breaker(rig: Rig) -> None:
    from mastertrade.engine.candle import Bar, Candle
    from mastertrade.engine.execution.wiring import build_trader
    from mastertrade.engine.market.store import CandleStore
    from tests.trading.conftest import trading_settings

    settings = trading_settings(risk={"error_burst": 2, "error_window_s": 600})
    broker = rig.broker()
    trader = build_trader(settings, rig.db, CandleStore(rig.db), venue_id="binance", broker=broker)
    broker.on_error = trader.account.risk.on_exchange_error
    await trader.start()
    assert trader.mode == "live"
    await trader.on_price_bar(
        BTC, Bar(Candle(now_ms() // 3_600_000 * 3_600_000, 40_000, 40_000, 40_000, 40_000), False)
    )
    with pytest.raises(errors.UserInputError, match="--live"):
        await trader.account.place(BTC, "buy", 0.01)
    rig.desk.after_accept("503", times=2)
    first = await trader.account.place(BTC, "buy", 0.01, live=True)
    second = await trader.account.place(BTC, "buy", 0.01, live=True)
    assert first["order"]["state"] == second["order"]["state"] == "filled"
    with pytest.raises(errors.RiskRejected, match="exchange_errors"):
        await trader.account.place(BTC, "buy", 0.01, live=True)
    for order in (first, second):
        assert len(rig.desk.orders_for(order["order"]["client_order_id"])) == 1
    positions = await trader.account.positions()
    assert positions[0]["amount"] == pytest.approx(0.02)
    await rig.assert_reconciled()


async def test_balances_are_trued_up_while_an_order_rests(rig: Rig) -> None:
    """A protective stop rests for as long as its position is held: money moved meanwhile is still
    recorded at the next start (waiting for no order to work, it never would be)."""
    broker = await rig.started()
    await broker.submit(buy(0.1, type=OrderType.LIMIT, price=30_000.0), placed_ts=now_ms())
    rig.desk.free["USDT"] += 1_000.0  # a deposit, while the order rests
    restarted = await rig.started()
    assert [e.amount for e in await rig.journal.ledger_entries("live")] == [100_000.0, 1_000.0]
    assert (await restarted.ledger()).balance("USDT") == pytest.approx(rig.desk.balance("USDT"))
    await rig.assert_reconciled()


async def test_an_order_filling_around_the_balance_read_is_not_counted_twice(rig: Rig) -> None:
    """Its fill would be recorded once as a balance adjustment and again as its fill: the balances
    are compared at the next start instead."""
    broker = await rig.started()
    resting = await broker.submit(buy(0.1, type=OrderType.LIMIT, price=39_000.0), placed_ts=now_ms())
    rig.desk.free["USDT"] += 1_000.0
    account = rig.desk._account

    def filled_just_before(request: Any) -> Any:
        # The order fills after the start looked it up, just before the balance is read: the balance
        # has its fill, the journal not yet.
        rig.desk.set_price(BTC, 38_900.0)
        return account(request)

    rig.desk.route("GET", "/api/v3/account", filled_just_before)
    restarted = await rig.started()
    assert [e.amount for e in await rig.journal.ledger_entries("live")] == [100_000.0]  # not yet
    rig.desk.route("GET", "/api/v3/account", account)
    await restarted.poll()
    assert (await rig.journal.get(resting.id)).state == OrderState.FILLED
    await rig.started()
    assert [e.amount for e in await rig.journal.ledger_entries("live")] == [100_000.0, 1_000.0]
    await rig.assert_reconciled()
