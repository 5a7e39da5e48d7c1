"""The paper broker: it trades exactly like the backtest, and its books are always the sum of its fills."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mastertrade.engine.backtest.fast import run_fast
from mastertrade.engine.backtest.params import OrderParams
from mastertrade.engine.backtest.result import FRACTIONAL_UNIT
from mastertrade.engine.candle import Bar, Candle
from mastertrade.engine.execution.journal import Journal
from mastertrade.engine.execution.matching import UNIT
from mastertrade.engine.execution.paper import PaperBroker
from mastertrade.engine.execution.parity import backtest_trades, compare, paper_replay
from mastertrade.engine.market.sim import simulate
from mastertrade.engine.orders import OrderRequest, OrderState, OrderType, Side

SYMBOL = "BTC/USDT"


async def open_journal() -> tuple[Any, Journal]:
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database

    db = await Database.open(load_settings())
    return db, Journal(db)


def test_the_unit_is_the_backtests() -> None:
    assert UNIT == FRACTIONAL_UNIT


# --- parity with the backtest --------------------------------------------------------------------

PARAMS = [
    OrderParams(stop_loss=0.02, take_profit=0.03, size=0.5),
    OrderParams(trailing_stop=0.03, size=0.9),
    OrderParams(stop_loss=0.05, trailing_stop=0.02, take_profit=0.08),
]


@pytest.mark.parametrize("case", range(len(PARAMS)))
async def test_paper_trades_match_the_backtest(db_url: str, case: int) -> None:
    params = PARAMS[case]
    frame = simulate(SYMBOL, "1h", 400, seed=11 + case)
    rng = np.random.default_rng(case)
    entries = rng.random(len(frame)) < 0.1
    exits = rng.random(len(frame)) < 0.06
    expected = run_fast(frame, entries, exits, params, cash=10_000.0, fee=0.001)
    db, journal = await open_journal()
    try:
        broker, trades = await paper_replay(
            journal, f"parity-{case}", SYMBOL, frame, entries, exits, params, cash=10_000.0, fee=0.001
        )
        report = compare(backtest_trades(expected), trades)
        assert len(expected.trade_list()) >= 5
        assert report.identical, report.as_dict()
        # the book's equity at the end agrees with the backtest's
        ledger = await broker.ledger()
        equity = ledger.equity("USDT", {SYMBOL: float(frame["close"].iloc[-1])})
        assert math.isclose(equity, expected.final_equity, rel_tol=1e-9)
        # and the journal replays to the same book
        replayed = await journal.ledger(f"parity-{case}")
        assert replayed.balances == ledger.balances
    finally:
        await db.close()


async def test_compare_lists_differences() -> None:
    frame = simulate(SYMBOL, "1h", 300, seed=3)
    rng = np.random.default_rng(9)
    entries, exits = rng.random(300) < 0.1, rng.random(300) < 0.1
    a = backtest_trades(run_fast(frame, entries, exits, OrderParams(), fee=0.001))
    b = backtest_trades(run_fast(frame, entries, exits, OrderParams(), fee=0.002))  # other sizes
    report = compare(a, b)
    assert not report.identical and report.different
    assert all("size" in item["differences"] for item in report.different)
    assert compare(a, a[1:]).only_backtest == [a[0]]


# --- order types and fills -----------------------------------------------------------------------

H = 3_600_000
T0 = 1_767_225_600_000  # 2026-01-01


def bar(i: int, o: float, h: float, low: float, c: float, closed: bool = True) -> Bar:
    return Bar(Candle(T0 + i * H, o, h, low, c), closed)


async def test_order_types_fill_by_the_backtest_rules(db_url: str) -> None:
    db, journal = await open_journal()
    try:
        broker = PaperBroker(journal, "paper", fee=0.001, starting_cash=10_000.0)
        await broker.start()
        await broker.on_bar(SYMBOL, bar(0, 100, 101, 99, 100))
        # placed at the close of bar 0: the market order fills at the open of bar 1
        market = await broker.submit(
            OrderRequest(SYMBOL, Side.BUY, amount=10, reference_price=100), placed_ts=T0 + H
        )
        limit = await broker.submit(
            OrderRequest(SYMBOL, Side.BUY, OrderType.LIMIT, amount=5, price=95), placed_ts=T0 + H
        )
        stop = await broker.submit(
            OrderRequest(SYMBOL, Side.BUY, OrderType.STOP, amount=1, stop_price=106), placed_ts=T0 + H
        )
        out = await broker.on_bar(SYMBOL, bar(1, 102, 103, 101, 102, closed=False))  # forming: market only
        assert [(f.order_id, f.price) for f in out.fills] == [(market.id, 102.0)]
        out = await broker.on_bar(SYMBOL, bar(1, 102, 104, 96, 97))  # closed: limit 95 not reached
        assert out.fills == []
        out = await broker.on_bar(SYMBOL, bar(2, 93, 107, 92, 105))  # gap below the limit: fills at open
        prices = {f.order_id: f.price for f in out.fills}
        assert prices == {limit.id: 93.0, stop.id: 106.0}
        ledger = await broker.ledger()
        assert ledger.held(SYMBOL) == 16
        cost = 10 * 102 + 5 * 93 + 106
        assert ledger.balance("USDT") == pytest.approx(10_000 - cost * 1.001)
        # a sell stop gapped through fills at the open; a sell of more than held is refused
        refused = await broker.submit(OrderRequest(SYMBOL, Side.SELL, amount=17), placed_ts=T0 + 3 * H)
        assert refused.state == OrderState.REJECTED and "insufficient position" in (refused.reason or "")
        protect = await broker.submit(
            OrderRequest(SYMBOL, Side.SELL, OrderType.STOP, amount=16, stop_price=100), placed_ts=T0 + 3 * H
        )
        out = await broker.on_bar(SYMBOL, bar(3, 98, 99, 90, 95))
        assert [(f.order_id, f.price) for f in out.fills] == [(protect.id, 98.0)]
        assert ledger.held(SYMBOL) == 0 and len(ledger.round_trips) == 1
    finally:
        await db.close()


async def test_two_cancels_at_once_cancel_once(db_url: str) -> None:
    # Two terminals (or the TUI and a terminal) cancelling the same order: one cancels it, the other
    # is told it is cancelled; one cancellation is published, not two.
    from mastertrade.engine import events
    from mastertrade.errors import OperationFailed

    db, journal = await open_journal()
    published: list[Any] = []
    try:
        broker = PaperBroker(journal, "paper", starting_cash=10_000.0, publish=published.append)
        await broker.start()
        await broker.on_bar(SYMBOL, bar(0, 100, 101, 99, 100))
        resting = await broker.submit(
            OrderRequest(SYMBOL, Side.BUY, OrderType.LIMIT, amount=5, price=90), placed_ts=T0 + H
        )
        assert resting.id is not None
        outcomes = await asyncio.gather(
            broker.cancel(resting.id), broker.cancel(resting.id), return_exceptions=True
        )
        assert [type(o) for o in outcomes] == [type(resting), OperationFailed], outcomes
        assert str(outcomes[1]) == (
            f"order {resting.id} (buy 5 BTC/USDT limit) is already cancelled (cancelled by hand): "
            "nothing to cancel"
        )
        cancelled = [e for e in published if isinstance(e, events.OrderCancelled)]
        assert len(cancelled) == 1, published
        out = await broker.on_bar(SYMBOL, bar(1, 89, 90, 80, 85))  # through the limit: nothing fills
        assert out.fills == [] and (await journal.get(resting.id)).state == "cancelled"
    finally:
        await db.close()


async def test_a_cancel_that_arrives_while_another_is_being_written_waits_for_it(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The second cancel must not read the order before the first one's cancellation is committed: it
    # then said "order 1 is open: only open orders can be cancelled".
    from mastertrade.errors import OperationFailed

    db, journal = await open_journal()
    try:
        broker = PaperBroker(journal, "paper", starting_cash=10_000.0)
        await broker.start()
        await broker.on_bar(SYMBOL, bar(0, 100, 101, 99, 100))
        resting = await broker.submit(
            OrderRequest(SYMBOL, Side.BUY, OrderType.LIMIT, amount=5, price=90), placed_ts=T0 + H
        )
        assert resting.id is not None
        writing, release = asyncio.Event(), asyncio.Event()
        transition = journal.transition

        async def held(*args: Any, **kwargs: Any) -> Any:
            writing.set()
            await release.wait()
            return await transition(*args, **kwargs)

        monkeypatch.setattr(journal, "transition", held)
        first = asyncio.create_task(broker.cancel(resting.id))
        await writing.wait()
        second = asyncio.create_task(broker.cancel(resting.id))
        await asyncio.sleep(0)  # one turn: the second cancel reaches its first await
        release.set()
        assert (await first).state == "cancelled"
        with pytest.raises(OperationFailed, match="order .* is already cancelled"):
            await second
    finally:
        await db.close()


async def test_a_bracket_exits_at_its_stop_when_both_are_reached(db_url: str) -> None:
    db, journal = await open_journal()
    try:
        broker = PaperBroker(journal, "paper", fee=0.0, starting_cash=1_000.0)
        await broker.start()
        entry = await broker.submit(
            OrderRequest(SYMBOL, Side.BUY, amount=1, stop_loss=0.05, take_profit=0.05, reference_price=100),
            placed_ts=T0 + H,
        )
        # entry at 100, stop 95, take 105: this bar reaches both; the stop-loss counts
        out = await broker.on_bar(SYMBOL, bar(1, 100, 106, 94, 100))
        assert [(f.side, f.price) for f in out.fills] == [("buy", 100.0), ("sell", 95.0)]
        orders = {row.role: row for row in await journal.orders(book="paper")}
        assert orders["stop_loss"].state == "filled" and orders["take_profit"].state == "cancelled"
        assert orders["stop_loss"].parent_id == entry.id
    finally:
        await db.close()


async def test_a_restart_accepts_recent_intents_and_cancels_stale_ones(db_url: str) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from mastertrade.db.models.trading import OrderRecord
    from mastertrade.db.types import utcnow

    db, journal = await open_journal()
    try:
        broker = PaperBroker(journal, "paper", starting_cash=1_000.0)
        await broker.start()
        fresh, _ = await journal.create_order(
            "paper", "paper", OrderRequest(SYMBOL, Side.BUY, amount=1), placed_ts=T0
        )
        stale, _ = await journal.create_order(
            "paper", "paper", OrderRequest(SYMBOL, Side.BUY, amount=1), placed_ts=T0
        )
        async with db.sessions() as session:
            await session.exec(
                update(OrderRecord)
                .where(OrderRecord.id == stale.id)  # type: ignore[arg-type]
                .values(created_at=utcnow() - timedelta(hours=1))
            )
            await session.commit()
        restarted = PaperBroker(journal, "paper", starting_cash=1_000.0)
        await restarted.start()
        assert (await journal.get(fresh.id)).state == "open"
        assert (await journal.get(stale.id)).state == "cancelled"
        assert [row.id for row in restarted.working()] == [fresh.id]
        assert (await restarted.ledger()).balance("USDT") == 1_000.0  # the book was not created twice
    finally:
        await db.close()


# --- books are the sum of their fills (property test) --------------------------------------------

ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("order"),
            st.sampled_from(["buy", "sell"]),
            st.sampled_from(["market", "limit", "stop"]),
            st.floats(min_value=0.01, max_value=40.0),
            st.floats(min_value=0.9, max_value=1.1),
        ),
        st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=50)),
        st.tuples(
            st.just("bar"),
            st.floats(min_value=-0.08, max_value=0.08),
            st.floats(min_value=0.0, max_value=0.05),
            st.floats(min_value=0.0, max_value=0.05),
            st.booleans(),
        ),
    ),
    min_size=5,
    max_size=40,
)

_COUNTER = iter(range(10**9))


async def run_sequence(journal: Journal, sequence: list[tuple[Any, ...]]) -> None:
    book = f"prop-{next(_COUNTER)}"
    broker = PaperBroker(journal, book, fee=0.001, slippage=0.001, starting_cash=5_000.0)
    await broker.start()
    price, i = 100.0, 0
    await broker.on_bar(SYMBOL, bar(i, price, price, price, price))
    placed: list[int] = []
    for op in sequence:
        if op[0] == "order":
            _, side, kind, amount, factor = op
            level = price * factor
            request = OrderRequest(
                SYMBOL,
                Side(side),
                OrderType(kind),
                amount=amount,
                price=level if kind == "limit" else None,
                stop_price=level if kind == "stop" else None,
                reference_price=price,
            )
            row = await broker.submit(request, placed_ts=T0 + (i + 1) * H)
            assert row.id is not None
            placed.append(row.id)
        elif op[0] == "cancel":
            working = broker.working()
            if working:
                target = working[op[1] % len(working)]
                assert target.id is not None
                await broker.cancel(target.id)
        else:
            _, move, up, down, closed = op
            i += 1
            o = price
            c = price * (1 + move)
            await broker.on_bar(SYMBOL, bar(i, o, max(o, c) * (1 + up), min(o, c) * (1 - down), c, closed))
            price = c
    ledger = await broker.ledger()
    fills = await journal.fills(book=book)
    # positions and balances are the plain sums of the fills (and the starting cash)
    held = 0.0
    cash = 5_000.0
    for fill in fills:
        if fill.side == "buy":
            held += fill.amount
            cash -= fill.amount * fill.price
        else:
            held -= fill.amount
            cash += fill.amount * fill.price
        cash -= fill.fee
    assert ledger.held(SYMBOL) == held
    assert ledger.balance("USDT") == cash
    assert ledger.balance("BTC") == held
    # the broker's book is the journal's replay, exactly
    replayed = await journal.ledger(book)
    assert replayed.balances == ledger.balances
    # nothing overspent or oversold
    assert held >= -1e-9 and cash >= -1e-6
    # every order's filled amount is the sum of its fills and never more than it asked for
    for row in await journal.orders(book=book):
        own = [fill for fill in fills if fill.order_id == row.id]
        assert row.filled == math.fsum(fill.amount for fill in own)
        if row.amount is not None:
            assert row.filled <= row.amount * (1 + 1e-12)
        if row.state == "filled":
            assert row.filled == pytest.approx(row.amount)
        assert row.state in {s.value for s in OrderState}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=ops)
def test_books_are_always_the_sum_of_their_fills(
    db_url: str, event_loop_for_hypothesis: Any, sequence: list[tuple[Any, ...]]
) -> None:
    loop, journal = event_loop_for_hypothesis
    loop.run_until_complete(run_sequence(journal, sequence))


@pytest.fixture
def event_loop_for_hypothesis(db_url: str) -> Any:
    """One event loop and one database for every example (each example trades a book of its own)."""
    loop = asyncio.new_event_loop()
    db, journal = loop.run_until_complete(open_journal())
    try:
        yield loop, journal
    finally:
        loop.run_until_complete(db.close())
        loop.close()
