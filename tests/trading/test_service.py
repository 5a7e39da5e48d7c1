"""The trading service in a daemon: manual orders through the API, the risk manager, goals, strategies
trading on closed candles (paper-stage in their own book, active ones in the account), and parity."""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade import errors
from mastertrade.engine import events
from mastertrade.engine.api.schemas_trading import GoalCreate, OrderCreate
from mastertrade.engine.execution.strategies import StaticStrategies, TradedStrategy
from mastertrade.engine.orders import Side
from mastertrade.engine.signals.genome import parse_genome
from mastertrade.engine.signals.strategy import Strategy
from tests.trading.conftest import TradingEngine, trading_settings

BTC = "BTC/USDT"


async def test_manual_orders_positions_balance_and_risk(trading: TradingEngine) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    async with trading.client() as client:
        placed = await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=10))
        assert placed.order.state == "open" and placed.risk.verdict == "approve"
        await trading.bar(BTC, 1, 101, 103, 100, 102)  # fills at the open of the next bar
        [position] = await client.positions()
        assert position.amount == 10 and position.average_price == pytest.approx(101 * 1.001)
        assert position.mark == 102
        balance = await client.balance()
        assert balance.cash == pytest.approx(100_000 - 1010 * 1.001)
        assert balance.equity == pytest.approx(balance.cash + 1020)

        # Too big: a human's order is refused with the reason; resized to the 20% position limit only
        # when asked for.
        with pytest.raises(errors.RiskRejected, match="allow-resize"):
            await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=500))
        big = await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=500, allow_resize=True))
        assert big.risk.verdict == "resize" and big.risk.findings[0].code == "max_position"
        assert big.order.amount is not None and big.order.amount * 102 <= 0.2 * balance.equity
        # The resized order waits for the next open and holds the position's room.
        with pytest.raises(errors.RiskRejected, match="position limit"):
            await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=1, type="limit", price=50))

        # The kill switch stops entries (the resting buy too), not exits.
        await client.risk_halt("test")
        with pytest.raises(errors.RiskRejected, match="kill switch"):
            await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=1))
        exit_ = await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=5))
        assert exit_.risk.verdict == "approve"
        status = await client.risk_status()
        assert status.halted and {b.name for b in status.breakers} >= {
            "kill_switch",
            "price_move",
            "stale_data",
        }
        resumed = await client.risk_resume()
        assert not resumed.halted

        # The halt cancelled the resting buy: it would have been a new entry.
        assert (await client.order(big.order.id)).reason == "kill switch: test"
        # A resting limit order, and its cancellation.
        limit = await client.place_order(
            OrderCreate(symbol=BTC, side="buy", amount=1, type="limit", price=50)
        )
        assert [o.id for o in await client.orders(open_only=True)].count(limit.order.id) == 1
        cancelled = await client.cancel_order(limit.order.id)
        assert cancelled.state == "cancelled"

        # Bad input is a 4xx naming the value; a market order with a price is bad input.
        with pytest.raises(errors.UserInputError, match="market order takes no --price"):
            await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=1, price=100))
        with pytest.raises(errors.UserInputError, match="live"):
            await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=1, live=True))

        audit = await client.risk_audit(limit=100)
        kinds = {row.kind for row in audit}
        assert {"approve", "resize", "reject", "halt", "resume"} <= kinds
    assert any(isinstance(e, events.OrderFilled) for e in trading.events)
    assert any(
        isinstance(e, events.CircuitBreakerTripped) and e.breaker == "kill_switch" for e in trading.events
    )


async def test_orders_placed_at_the_same_time_are_checked_one_after_the_other(
    trading: TradingEngine,
) -> None:
    # Eight buys of 15,000 each against a 20% position limit of 100,000 equity (20,000): each alone
    # fits, together they do not. Checked side by side, each saw the book without the others and all
    # eight went through (120,000, six times the limit); then two sells of the whole position both did.
    import asyncio

    await trading.bar(BTC, 0, 100, 101, 99, 100)
    account = trading.trader.account
    outcomes = await asyncio.gather(
        *(account.place(BTC, "buy", 150.0) for _ in range(8)), return_exceptions=True
    )
    placed = [o for o in outcomes if isinstance(o, dict)]
    refused = [o for o in outcomes if isinstance(o, errors.RiskRejected)]
    assert len(placed) == 1 and len(refused) == 7, outcomes
    await trading.bar(BTC, 1, 100, 101, 99, 100)
    [position] = await account.positions()
    assert position["amount"] == 150.0
    sells = await asyncio.gather(
        *(account.place(BTC, "sell", 150.0) for _ in range(2)), return_exceptions=True
    )
    assert [type(o) for o in sells].count(dict) == 1, sells
    assert "reserved by open sell orders" in str(next(o for o in sells if not isinstance(o, dict)))


async def test_a_sell_never_waits_behind_a_buy_being_checked(trading: TradingEngine) -> None:
    # Orders of one side are checked and submitted one at a time (above); a protective exit (a sell)
    # must not queue behind an entry whose submission to a live venue can take seconds.
    import asyncio

    await trading.bar(BTC, 0, 100, 101, 99, 100)
    account = trading.trader.account
    await account.place(BTC, "buy", 100.0)
    await trading.bar(BTC, 1, 100, 101, 99, 100)
    async with account._checking[Side.BUY]:  # a buy is being checked and submitted meanwhile
        sold = await asyncio.wait_for(account.place(BTC, "sell", 100.0), timeout=30.0)
        assert sold["order"]["side"] == "sell"
        buying = asyncio.ensure_future(account.place(BTC, "buy", 10.0))
        await asyncio.sleep(0)
        assert not buying.done()  # a second buy waits for the first
    assert (await buying)["order"]["side"] == "buy"


async def test_goals_and_the_risk_factor(trading: TradingEngine) -> None:
    for i, close in enumerate([100, 101, 102]):
        await trading.bar(BTC, i, close, close + 1, close - 1, close)
    async with trading.client() as client:
        report = await client.goals()
        assert [g.name for g in report.goals] == ["monthly return", "monthly profit", "portfolio value"]
        assert report.risk_factor.reasons
        goal = await client.add_goal(GoalCreate(name="weekly", kind="profit", target=500, period="week"))
        assert goal.description == "500.00 profit per week"
        with pytest.raises(errors.AlreadyExists, match="exists already"):
            await client.add_goal(GoalCreate(name="weekly", kind="profit", target=5, period="week"))
        removed = await client.remove_goal(goal.id)
        assert removed.name == "weekly"
        with pytest.raises(errors.NotFound):
            await client.remove_goal(goal.id)
        progress = (await client.goals()).goals[0]
        assert progress.status in ("behind", "on schedule", "ahead", "reached")
    snapshot = await trading.trader.goals.snapshot()
    assert snapshot["risk_factor"]["value"] > 0
    metrics = await trading.risk_metrics()
    assert metrics["source"] == "equity" and metrics["figures"] is None  # too little history yet


UP_DOWN = {
    "name": "updown",
    "symbol": BTC,
    "timeframe": "1h",
    "entry": {">": [{"price": "close"}, {"price": "open"}]},
    "exit": {"<": [{"price": "close"}, {"price": "open"}]},
    "stop_loss": 0.03,
    "size": 0.5,
}


def strategy(stage: str, name: str = "s1") -> TradedStrategy:
    genome = parse_genome({**UP_DOWN, "name": name})
    return TradedStrategy(name, stage, Strategy.from_genome(genome))  # type: ignore[arg-type]


@pytest.fixture
def trading_strategies() -> StaticStrategies:
    return StaticStrategies([strategy("paper", "paper-one"), strategy("active", "active-one")])


# closes that alternate up and down bars, with one deep bar that hits the 3% stop
BARS = [
    (100, 101, 99, 100.5),
    (100.5, 102, 100, 101.5),
    (101.5, 102, 99.5, 100.0),
    (100.0, 101, 99, 100.8),
    (100.8, 101, 96, 99.0),
    (99.0, 100, 98, 99.5),
    (99.5, 103, 99, 102.5),
    (102.5, 103, 101, 101.2),
    (101.2, 104, 101, 103.9),
    (103.9, 105, 103, 104.5),
    (104.5, 105, 100, 100.1),
    (100.1, 101, 99, 100.9),
]


async def test_strategies_trade_on_closed_candles_and_paper_matches_the_backtest(
    trading: TradingEngine,
) -> None:
    for i, (o, h, low, c) in enumerate(BARS):
        await trading.bar(BTC, i, o, h, low, c)
    trader = trading.trader
    # the paper-stage strategy traded its own book, exactly like its backtest over the same bars
    paper_orders = await trader.account.orders(book="strategy:paper-one", limit=200)
    assert any(o["state"] == "filled" for o in paper_orders)
    from mastertrade.engine.execution.parity_report import book_parity

    report = await book_parity(trader, "paper-one")
    assert report["same"] >= 2 and report["identical"], report
    # the active one traded the account, Kelly-sized (no record yet: the default fraction) and risk-checked
    account = [o for o in await trader.account.orders(limit=200) if o["strategy_id"] == "active-one"]
    assert account and all(o["book"] == "paper" for o in account)
    entries = [o for o in account if o["side"] == "buy" and o["role"] == "entry"]
    assert entries and entries[0]["amount"] == pytest.approx(0.05 * 100_000 / BARS[0][3], rel=0.01)
    audit = await trader.account.audit(200)
    approved = [row for row in audit if row["strategy_id"] == "active-one" and row["kind"] == "approve"]
    # the audit says why an approved entry has its size, not only that it fits the limits
    assert any(
        "default fraction 5.00%" in row["reason"] and "goal factor" in row["reason"] for row in approved
    ), [row["reason"] for row in approved]
    # its Kelly record counts each signal once: its paper book's trades, not those again in the account
    journal = trader.account.journal
    in_book = len((await journal.ledger("strategy:active-one")).round_trips)
    in_account = len((await journal.strategy_ledger("paper", "active-one")).round_trips)
    assert in_book >= 1 and in_account >= 1
    assert (await trader.account.real_record("active-one")).trades == in_book
    await trading.wait(lambda: any(isinstance(e, events.SignalRaised) for e in trading.events), "signals")
    signals = [e for e in trading.events if isinstance(e, events.SignalRaised)]
    assert {e.strategy_id for e in signals} == {"paper-one", "active-one"}
    async with trading.client() as client:
        over_api = await client.strategy_parity("paper-one")
        assert over_api.identical and over_api.same == report["same"]
        assert over_api.simulated is report["simulated"]  # the API keeps it, as `mt strategy parity` shows it
        # a unique prefix names it too, as for every command that takes a stored strategy
        by_prefix = await client.strategy_parity("pape")
        assert by_prefix.strategy_id == "paper-one" and by_prefix.same == report["same"]
        with pytest.raises(errors.NotFound):
            await client.strategy_parity("nope")


async def test_parity_names_a_traded_strategy_by_its_id_or_a_unique_prefix_only() -> None:
    from types import SimpleNamespace

    from mastertrade.engine.execution.parity_report import book_parity

    traded = StaticStrategies([strategy("paper", "3fa2c9d8aa"), strategy("paper", "3fa2e000bb")])
    trader: Any = SimpleNamespace(
        strategies=traded, series=None, account=SimpleNamespace(journal=None), venue_id="sim"
    )
    with pytest.raises(errors.UserInputError, match="ambiguous: 3fa2c9d8aa, 3fa2e000bb"):
        await book_parity(trader, "3fa2")
    with pytest.raises(errors.NotFound, match="no paper or active strategy '3fa'"):
        await book_parity(trader, "3fa")  # shorter than 4: never a prefix
    with pytest.raises(errors.NotFound, match="no paper or active strategy 'ffff'"):
        await book_parity(trader, "ffff")


@pytest.fixture
def live_without_switch(db_url: str) -> Any:
    return trading_settings().model_copy(update={"mode": "live"})


async def test_live_mode_without_the_switch_trades_nothing(live_without_switch: Any) -> None:
    from mastertrade.engine.daemon import Daemon
    from mastertrade.engine.services.trading import TradingOff
    from tests.daemon.fakes import FakeVenue, RecordingNotifier

    daemon = Daemon(live_without_switch, venue=FakeVenue(), notifier=RecordingNotifier(), serve_api=False)
    ctx = await daemon.start()
    try:
        import asyncio

        for _ in range(500):
            if ctx.find(TradingOff) is not None:
                break
            await asyncio.sleep(0.005)
        import httpx

        from mastertrade.client import DaemonClient
        from mastertrade.engine.api.app import create_app

        async with DaemonClient(transport=httpx.ASGITransport(app=create_app(ctx))) as client:
            with pytest.raises(errors.OperationFailed, match="without --live"):
                await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=1, live=True))
    finally:
        await daemon.stop()


async def test_drawdown_turns_the_account_reduce_only_until_resumed(trading: TradingEngine) -> None:
    from tests.trading.conftest import HOUR, T0

    await trading.bar(BTC, 0, 100, 101, 99, 100)
    journal = trading.trader.account.journal
    # an earlier peak of 130k: equity 100k now is a 23% drawdown
    await journal.record_equity("paper", T0 - 30 * HOUR, 130_000.0, 130_000.0, 0.0)
    async with trading.client() as client:
        status = await client.risk_status()
        assert status.reduce_only and status.drawdown == pytest.approx(0.3 / 1.3)
        with pytest.raises(errors.RiskRejected, match="reduce-only"):
            await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=1))
        await trading.wait(
            lambda: any(
                isinstance(e, events.RiskBreached) and e.limit == "max_drawdown" for e in trading.events
            ),
            "the risk event",
        )
        resumed = await client.risk_resume()  # a new baseline: the peak counts from now on
        assert not resumed.reduce_only and resumed.drawdown == 0
        # ... but the loss since yesterday's close still stops entries until the next (UTC) day
        with pytest.raises(errors.RiskRejected, match="daily limit"):
            await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=1))
        await trading.bar(BTC, 24, 100, 101, 99, 100)
        placed = await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=1))
        assert placed.risk.verdict == "approve"


async def test_var_of_the_positions_on_schedule(trading: TradingEngine) -> None:
    import math

    from mastertrade.engine.market.store import SeriesKey
    from mastertrade.engine.risk.var import historical
    from tests.trading.conftest import HOUR, T0

    # 40 days of hourly closes whose daily returns cycle through -3%, +1%, +2%
    days = 40
    cycle = [0.97, 1.01, 1.02]
    rows, price = [], 100.0
    for d in range(-days, 0):
        for h in range(24):
            ts = T0 + (d * 24 + h) * HOUR
            rows.append((ts, price, price, price, price, 1.0))
        price *= cycle[(d + days) % 3]
    await trading.ctx.candles.upsert(SeriesKey("fake", BTC, "1h"), rows)
    await trading.bar(BTC, 0, price, price, price, price)
    async with trading.client() as client:
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=100))
        await trading.bar(BTC, 1, price, price, price, price)
        metrics = await trading.risk_metrics()  # what the risk_metrics job runs
        assert metrics["source"] == "positions" and metrics["returns"] >= 35
        status = await client.risk_status()
    equity = status.equity
    weight = 100 * price / equity
    daily = [cycle[i % 3] - 1 for i in range(metrics["returns"])]
    var95, cvar95 = historical([weight * r for r in daily], 0.95)
    figures = {f["level"]: f for f in status.var["figures"]}  # type: ignore[index]
    assert math.isclose(figures[0.95]["historical_var"], var95 * equity, rel_tol=1e-6)
    assert math.isclose(figures[0.95]["historical_cvar"], cvar95 * equity, rel_tol=1e-6)
    assert figures[0.99]["parametric_cvar"] > figures[0.95]["parametric_var"] > 0


async def test_every_closed_candle_marks_the_equity_and_an_unchanged_mark_is_not_rewritten(
    trading: TradingEngine,
) -> None:
    """Each symbol's closed candle marks the account's equity at that bar; a symbol the account does not
    hold moves no equity, so its mark of the same bar is already stored and no write is made for it."""
    from sqlalchemy import event

    from mastertrade.engine.execution.journal import Journal

    eth = "ETH/USDT"
    writes: list[Any] = []

    def count(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.startswith("INSERT INTO equity_points") and "paper" in params:
            writes.append(params)  # the account's (the strategies' books are marked by the bar clock)

    engine = trading.ctx.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        await trading.bar(BTC, 0, 100, 101, 99, 100)
        await trading.bar(eth, 0, 10, 10.2, 9.9, 10)  # the same bar, the same equity: no write
        assert len(writes) == 1
        async with trading.client() as client:
            await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=10))
        await trading.bar(BTC, 1, 101, 103, 100, 102)  # the buy fills at 101: a new bar, a new mark
        await trading.bar(eth, 1, 10, 10.2, 9.9, 10.1)
        assert len(writes) == 2
        await trading.bar(eth, 2, 10.1, 10.3, 10, 10.2)  # ETH closes bar 2 first: BTC still at 102
        await trading.bar(BTC, 2, 102, 106, 101, 105)  # BTC moves the equity of bar 2: written again
        await trading.bar(BTC, 2, 102, 106, 101, 105, ticks=False)  # the same close again: not
        assert len(writes) == 4
    finally:
        event.remove(engine, "before_cursor_execute", count)
    history = await Journal(trading.ctx.db).equity_history("paper")
    assert [point.equity for point in history[:2]] == pytest.approx([100_000, 100_000 - 1010 * 1.001 + 1020])
    # bar 2's stored mark is the account's equity after BTC's close (the active strategy trades too)
    assert len(history) == 3 and history[2].equity == (await trading.trader.account.balance())["equity"]


async def test_var_on_a_replay_samples_only_the_closes_it_played(
    trading: TradingEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replay's store holds the bars it has yet to play: the VaR job sampled its daily closes from the
    newest stored bar, the risk of prices to come, not of those the market has shown."""
    import math

    from mastertrade.engine.market.store import SeriesKey
    from mastertrade.engine.risk.var import historical
    from tests.trading.conftest import HOUR, T0

    days, cycle = 40, [0.97, 1.01, 1.02]  # 40 played days whose daily returns cycle -3%, +1%, +2%
    rows, price = [], 100.0
    for d in range(-days, 0):
        for h in range(24):
            rows.append((T0 + (d * 24 + h) * HOUR, price, price, price, price, 1.0))
        price *= cycle[(d + days) % 3]
    later = [  # 30 days the replay has yet to play, swinging 40% a day
        (T0 + (d * 24 + h) * HOUR, p, p, p, p, 1.0)
        for d in range(1, 31)
        for h in range(24)
        for p in [price * (1.4 if d % 2 else 0.6)]
    ]
    await trading.ctx.candles.upsert(SeriesKey("fake", BTC, "1h"), rows + later)

    async def resume_time(*_: Any) -> None:  # what makes a venue a replay (``market.as_of``)
        return None

    monkeypatch.setattr(trading.venue, "resume_time", resume_time, raising=False)
    await trading.bar(BTC, 0, price, price, price, price)
    async with trading.client() as client:
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=100))
        await trading.bar(BTC, 1, price, price, price, price)
        metrics = await trading.risk_metrics()
        status = await client.risk_status()
    assert metrics["source"] == "positions" and metrics["returns"] >= 35
    weight = 100 * price / status.equity
    daily = [cycle[i % 3] - 1 for i in range(metrics["returns"])]
    var95, _ = historical([weight * r for r in daily], 0.95)
    figures = {f["level"]: f for f in status.var["figures"]}  # type: ignore[index]
    assert math.isclose(figures[0.95]["historical_var"], var95 * status.equity, rel_tol=1e-6)
