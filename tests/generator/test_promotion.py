"""Promotion and retirement rules, the records they read from the trading journal, and the nightly run."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from mastertrade.config import GeneratorSettings
from mastertrade.db.models.trading import EquityPointRecord, FillRecord, LedgerEntry, OrderRecord, TradingBook
from mastertrade.engine.generator.nightly import apply_rules, nightly
from mastertrade.engine.generator.promotion import Decision, TradingRecord, decide, prediction, read_record
from mastertrade.engine.generator.report import versus_buy_and_hold
from mastertrade.engine.generator.search import derive
from mastertrade.engine.generator.states import State
from mastertrade.engine.generator.store import NewStrategy, StoredStrategy, StrategyStore
from mastertrade.engine.signals.builtins import builtin
from tests.generator.helpers import LENIENT, settings_with, store_candles

START = datetime(2025, 3, 1, tzinfo=UTC)
RULES = GeneratorSettings(
    min_paper_days=14,
    min_paper_trades=5,
    paper_tolerance_sigma=1.0,
    drawdown_tolerance=1.5,
    retire_drawdown_pct=25,
    retire_sigma=2.0,
)
OOS = {"daily_mean": 0.001, "daily_std": 0.01, "max_drawdown_pct": 8.0, "sharpe": 1.9, "trades": 30}
PAPER_PATH = (
    (State.GENERATED, "test"),
    (State.BACKTESTED, "test"),
    (State.PASSED, "test"),
)


def stored(state: State = State.PAPER, **oos: Any) -> StoredStrategy:
    genome = builtin("sma_cross", "BTC/USDT", "1h")
    return StoredStrategy(
        id="0123456789abcdef",
        name="x",
        fingerprint="0123456789abcdef",
        symbol="BTC/USDT",
        timeframe="1h",
        exchange="sim",
        state=state,
        genome_data=genome.to_dict(),
        metrics={},
        in_sample={},
        out_of_sample={**OOS, **oos},
        folds=[],
        deflated_sharpe=0.97,
        reference_agrees=True,
        reference=None,
        complexity=2,
        generation_run_id=None,
        seed=None,
        created_at=START,
        updated_at=START,
        state_since=START,
    )


def record(
    days: float = 20, trades: int = 8, return_pct: float = 2.0, drawdown: float = 5.0
) -> TradingRecord:
    return TradingRecord(START, START + timedelta(days=days), trades, return_pct, drawdown)


def test_prediction_scales_with_the_period() -> None:
    expected, spread = prediction(stored(), 25) or (0, 0)
    assert expected == pytest.approx(2.5) and spread == pytest.approx(5.0)
    assert prediction(stored(daily_mean=None), 25) is None


def test_a_paper_record_that_holds_up_is_promoted() -> None:
    decision = decide(stored(), record(days=20, trades=8, return_pct=1.0, drawdown=6.0), RULES)
    assert decision.action == "promote"
    assert "8 trades" in decision.reason and "expected" in decision.reason


def test_too_short_a_record_waits() -> None:
    assert decide(stored(), None, RULES).action == "keep"
    short = decide(stored(), record(days=5), RULES)
    assert short.action == "keep" and "5.0 of 14 days" in short.reason
    few = decide(stored(), record(trades=2), RULES)
    assert few.action == "keep" and "2 of 5 trades" in few.reason


def test_paper_below_tolerance_or_with_a_deep_drawdown_stays_on_paper() -> None:
    # 20 days: expected 2%, spread 4.47%; -3% is 1.1 sigma short (tolerance 1.0, retirement at 2.0)
    below = decide(stored(), record(return_pct=-3.0), RULES)
    assert below.action == "keep" and below.reason.startswith("paper below tolerance")
    deep = decide(stored(), record(drawdown=13.0), RULES)
    assert deep.action == "keep" and "above 12.0%" in deep.reason
    tiny_backtest_drawdown = decide(stored(max_drawdown_pct=0.5), record(drawdown=1.5), RULES)
    assert tiny_backtest_drawdown.action == "promote"  # held to 2% at least, not to 0.75%


def test_drawdown_and_decay_retire() -> None:
    drawdown = decide(stored(State.ACTIVE), record(days=2, drawdown=26.0), RULES)
    assert drawdown.action == "retire" and "drawdown 26.0% reached the limit of 25%" in drawdown.reason
    z = (-8.0 - 2.0) / (0.01 * math.sqrt(20) * 100)
    assert z < -2
    decay = decide(stored(State.ACTIVE), record(return_pct=-8.0), RULES)
    assert decay.action == "retire" and decay.reason.startswith("decay: active return -8.00%")
    assert decide(stored(State.PAPER), record(return_pct=-8.0), RULES).action == "retire"
    holds = decide(stored(State.ACTIVE), record(return_pct=1.0), RULES)
    assert holds.action == "keep" and holds.reason.startswith("holds up")
    assert decide(stored(State.PASSED), record(), RULES).action == "keep"


async def add_strategy(db: Any, state: State) -> StoredStrategy:
    store = StrategyStore(db)
    new = NewStrategy(builtin("sma_cross", "BTC/USDT", "1h"), out_of_sample=dict(OOS), path=PAPER_PATH)
    strategy = await store.add(new)
    await store.transition(strategy.id, State.PAPER, "test")
    if state is State.ACTIVE:
        await store.transition(strategy.id, State.ACTIVE, "test")
    return await store.get(strategy.id)


async def add_book(
    db: Any, book: str, equity: list[float], trips: list[tuple[float, float]], strategy: str
) -> None:
    """A book with an equity point a day and round trips (buy price, sell price) of one unit each."""
    day = 86_400_000
    start_ms = int(START.timestamp() * 1000)
    async with db.sessions() as session:
        session.add(TradingBook(id=book, mode="paper", quote="USDT", strategy_id=strategy))
        await session.flush()
        session.add(
            LedgerEntry(book=book, asset="USDT", amount=equity[0], reason="starting cash", ts=start_ms)
        )
        for index, value in enumerate(equity):
            session.add(
                EquityPointRecord(
                    book=book, ts=start_ms + index * day, equity=value, cash=value, positions_value=0
                )
            )
        for index, (buy, sell) in enumerate(trips):
            for side, price, offset in (("buy", buy, 0), ("sell", sell, day // 2)):
                order = OrderRecord(
                    client_order_id=f"{book}-{index}-{side}",
                    book=book,
                    mode="paper",
                    symbol="BTC/USDT",
                    side=side,
                    type="market",
                    state="filled",
                    placed_ts=start_ms,
                    strategy_id=strategy,
                    amount=1.0,
                )
                session.add(order)
                await session.flush()
                assert order.id is not None
                session.add(
                    FillRecord(
                        order_id=order.id,
                        book=book,
                        symbol="BTC/USDT",
                        side=side,
                        amount=1.0,
                        price=price,
                        fee=0.0,
                        fee_asset="USDT",
                        trade_id=f"t{order.id}",
                        ts=start_ms + index * day + offset,
                    )
                )
        await session.commit()


async def test_a_paper_record_comes_from_the_strategys_own_book(sqlite_db: Any) -> None:
    strategy = await add_strategy(sqlite_db, State.PAPER)
    assert await read_record(sqlite_db, strategy) is None  # no book yet
    equity = [10_000, 10_100, 9_900, 10_300, 10_200]
    await add_book(sqlite_db, f"strategy:{strategy.id}", equity, [(100, 110), (110, 105)], strategy.id)
    found = await read_record(sqlite_db, strategy)
    assert found is not None
    assert found.days == 4 and found.trades == 2
    assert found.return_pct == pytest.approx(2.0)
    assert found.max_drawdown_pct == pytest.approx((1 - 9_900 / 10_100) * 100)


async def test_a_record_counts_only_bars_after_the_hold_out(sqlite_db: Any) -> None:
    """A trading core that lags the feed opens a new strategy's book on bars its hold-out already scored
    (the bars that chose it); the record starts at the hold-out's last bar and counts the trades entered
    after it, paper and active alike."""
    from mastertrade.utc import iso

    held_to = START + timedelta(days=2)  # the hold-out's last bar: the book's third mark
    store = StrategyStore(sqlite_db)
    new = NewStrategy(
        builtin("sma_cross", "BTC/USDT", "1h"), out_of_sample={**OOS, "end": iso(held_to)}, path=PAPER_PATH
    )
    strategy = await store.add(new)
    strategy = await store.transition(strategy.id, State.PAPER, "test")
    equity = [10_000, 11_000, 12_000, 12_120, 11_900, 12_300]
    trips = [(100, 110), (110, 120), (120, 121), (121, 119), (119, 125)]  # entered on days 0..4
    await add_book(sqlite_db, f"strategy:{strategy.id}", equity, trips, strategy.id)
    found = await read_record(sqlite_db, strategy)
    assert found is not None
    assert found.start == held_to and found.days == 3
    assert found.trades == 2  # entered on days 3 and 4
    assert found.return_pct == pytest.approx((12_300 / 12_000 - 1) * 100)
    assert found.max_drawdown_pct == pytest.approx((1 - 11_900 / 12_120) * 100)

    active = await store.transition(strategy.id, State.ACTIVE, "test")
    await add_book(sqlite_db, "paper", [10_000], trips, strategy.id)
    record = await read_record(sqlite_db, active)
    assert record is not None and record.trades == 2
    assert record.return_pct == pytest.approx(((119 / 121) * (125 / 119) - 1) * 100, rel=1e-6)


async def test_an_active_record_comes_from_its_trades_in_the_account(sqlite_db: Any) -> None:
    strategy = await add_strategy(sqlite_db, State.ACTIVE)
    await add_book(sqlite_db, "paper", [10_000], [(100, 110), (110, 99)], strategy.id)
    await add_book(sqlite_db, "strategy:other", [10_000], [(100, 50)], "other")
    found = await read_record(sqlite_db, strategy)
    assert found is not None and found.trades == 2
    growth = (1 + 10 / 100) * (1 - 11 / 110)  # size 1: each trade's return in full
    assert found.return_pct == pytest.approx((growth - 1) * 100, rel=1e-6)
    assert found.max_drawdown_pct == pytest.approx(10.0, rel=1e-6)


async def test_apply_rules_moves_and_publishes(sqlite_db: Any) -> None:
    promoted = await add_strategy(sqlite_db, State.PAPER)
    days = [10_000 * (1.001**i) for i in range(20)]
    await add_book(sqlite_db, f"strategy:{promoted.id}", days, [(100, 101)] * 6, promoted.id)
    events: list[Any] = []
    decisions = await apply_rules(sqlite_db, settings_with(), publish=events.append)
    assert [d["action"] for d in decisions] == ["promote"]
    assert (await StrategyStore(sqlite_db).get(promoted.id)).state is State.ACTIVE
    assert [(e.type, e.stage_from, e.stage_to) for e in events] == [("strategy.promoted", "paper", "active")]
    history = await StrategyStore(sqlite_db).history(promoted.id)
    assert history[-1].reason.startswith("paper record holds up")


async def test_judging_reads_the_book_list_once_not_once_per_strategy(
    sqlite_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Judging N trading strategies read every book for each of them (N² rows: 200 paper strategies took
    22 s, 800 took 188 s); the account's books are read once, and a paper record needs none."""
    from mastertrade.engine.execution.journal import Journal

    store = StrategyStore(sqlite_db)
    genome = builtin("sma_cross", "BTC/USDT", "1h")
    stops = [genome.model_copy(update={"stop_loss": 0.01 * (i + 1)}) for i in range(6)]
    stored = await store.add_many(NewStrategy(g, out_of_sample=dict(OOS), path=PAPER_PATH) for g in stops)
    for strategy in stored:
        await store.transition(strategy.id, State.PAPER, "test")
        await add_book(sqlite_db, f"strategy:{strategy.id}", [10_000, 10_010], [(100, 101)], strategy.id)
    for strategy in stored[:2]:
        await store.transition(strategy.id, State.ACTIVE, "test")
    await add_book(sqlite_db, "paper", [10_000], [(100, 90)], stored[0].id)
    reads = 0
    books = Journal.books

    async def counted(self: Journal) -> Any:
        nonlocal reads
        reads += 1
        return await books(self)

    monkeypatch.setattr(Journal, "books", counted)
    decisions = await apply_rules(sqlite_db, settings_with(min_paper_days=0, min_paper_trades=0))
    assert len(decisions) == 6 and reads == 1
    by_id = {item["id"]: item for item in decisions}
    assert by_id[stored[0].id]["record"]["trades"] == 1  # its trade in the account
    assert by_id[stored[1].id]["record"] is None  # active, no account trade yet
    assert all(by_id[s.id]["record"]["trades"] == 1 for s in stored[2:])  # paper: their own books


async def test_a_strategy_taken_off_the_account_is_not_put_back_by_the_rules(sqlite_db: Any) -> None:
    """Active, paused by hand, put on paper by hand: its paper book ran on through all of it, so its
    record holds up and the next night promoted it again, undoing the trader's move. It stays on paper
    (saying why) until the trader activates it."""
    store = StrategyStore(sqlite_db)
    strategy = await add_strategy(sqlite_db, State.ACTIVE)
    await store.transition(strategy.id, State.PAUSED, "paused by hand")
    await store.transition(strategy.id, State.PAPER, "moved to paper trading by hand")
    days = [10_000 * (1.001**i) for i in range(20)]
    await add_book(sqlite_db, f"strategy:{strategy.id}", days, [(100, 101)] * 6, strategy.id)
    events: list[Any] = []
    [decision] = await apply_rules(sqlite_db, settings_with(), publish=events.append)
    assert decision["action"] == "keep" and "taken off it (paused by hand)" in decision["reason"]
    assert "paper record holds up" in decision["reason"]  # what the rules would have done
    assert (await store.get(strategy.id)).state is State.PAPER and events == []
    # the trader's own move still goes through
    await store.transition(strategy.id, State.ACTIVE, "activated by hand")
    assert (await store.get(strategy.id)).state is State.ACTIVE


async def test_the_nightly_run_generates_moves_passers_to_paper_and_judges(
    sqlite_db: Any, frame: pd.DataFrame
) -> None:
    from mastertrade.config import MarketSettings

    await store_candles(sqlite_db, frame)
    settings = settings_with(**LENIENT, count=20, population=16, generations=2, paper_per_run=2).model_copy(
        update={"market": MarketSettings(symbols=["BTC/USDT", "ETH/USDT"], timeframe="1h")}
    )
    events: list[Any] = []
    progress: list[tuple[float, float | None, str]] = []
    now = datetime(2025, 1, 2, 3, tzinfo=UTC)
    report = await nightly(
        sqlite_db,
        settings,
        exchange="sim",
        publish=events.append,
        progress=lambda *a: progress.append(a),
        now=now,
    )
    btc = report["symbols"]["BTC/USDT"]
    assert report["simulated"] is True  # the report says its strategies were searched on simulated prices
    assert btc["counts"]["stored"] == 20 and btc["refresh"] == {
        "skipped": "simulated or replay venue: nothing to download"
    }
    assert "no candles" in report["symbols"]["ETH/USDT"]["skipped"]
    assert len(report["paper"]) == 2
    store = StrategyStore(sqlite_db)
    paper = await store.list(states=[State.PAPER])
    assert {s.id for s in paper} == {item["id"] for item in report["paper"]}
    passed = [s for s in await store.list(generation_run_id=btc["run_id"]) if s.deflated_sharpe is not None]
    best = sorted(
        (s for s in passed if s.state in (State.PAPER, State.PASSED)), key=lambda s: -(s.deflated_sharpe or 0)
    )
    assert {s.id for s in best[:2]} == {s.id for s in paper}
    assert [e.stage_to for e in events] == ["paper", "paper"]
    for strategy, item in zip(
        sorted(paper, key=lambda s: s.id), sorted(report["paper"], key=lambda i: i["id"]), strict=True
    ):
        baseline = strategy.selection["holdout_buy_and_hold"]  # said when it does worse
        behind = bool(versus_buy_and_hold(strategy.holdout, baseline))
        assert ("does worse than buy-and-hold" in item["reason"]) is behind, item["reason"]
    assert [d["action"] for d in report["decisions"]] == ["keep", "keep"]  # no paper record yet
    assert progress[-1][0] == progress[-1][1] == 2
    run = await store.run(btc["run_id"])
    assert run.trigger == "nightly"
    # the same night again: the same seed; what the first run stored is skipped, so 20 new ones
    again = await nightly(sqlite_db, settings, exchange="sim", now=now)
    assert again["symbols"]["BTC/USDT"]["counts"]["stored"] == 20
    assert (await store.run(again["symbols"]["BTC/USDT"]["run_id"])).seed == run.seed


async def test_the_nightly_run_leaves_passers_of_an_untraded_timeframe_passed(
    sqlite_db: Any, frame: pd.DataFrame
) -> None:
    """The trading core evaluates [market] timeframe bars only: a passer of another timeframe of the
    universe put on paper never got a bar, so never a record to be promoted or retired on, and held its
    paper slot for good (one more each night). It stays passed, and the report says why."""
    from mastertrade.config import MarketSettings

    await store_candles(sqlite_db, frame)
    settings = settings_with(
        **LENIENT, count=20, population=16, generations=2, paper_per_run=2, timeframes=["1h"]
    ).model_copy(update={"market": MarketSettings(symbols=["BTC/USDT"], timeframe="4h")})
    report = await nightly(sqlite_db, settings, exchange="sim", now=datetime(2025, 1, 2, 3, tzinfo=UTC))
    (series,) = report["series"]
    assert series["timeframe"] == "1h" and series["counts"]["passed"] > 0
    assert report["paper"] == []
    store = StrategyStore(sqlite_db)
    assert await store.list(states=[State.PAPER]) == []
    assert len(await store.list(states=[State.PASSED])) == series["counts"]["passed"]
    assert series["paper_note"] == (
        f"{series['counts']['passed']} passed and stay passed, not on paper: the daemon trades 4h bars"
        " ([market] timeframe): BTC/USDT 1h gets no bar and will not trade while it does"
    )


async def test_a_simulated_nightly_says_why_another_timeframe_has_no_series(sqlite_db: Any) -> None:
    """On a simulated daemon the 4h series of the universe were skipped saying "run `mt data sim`", which
    a trader had done: it writes the research series, and the feed makes [market] timeframe bars only."""
    from types import SimpleNamespace

    from mastertrade.config import MarketSettings

    settings = settings_with(timeframes=["1h", "4h"]).model_copy(
        update={"market": MarketSettings(symbols=["ETH/USDT"], timeframe="1h")}
    )
    venue = SimpleNamespace(id="sim-live", simulated=True)
    report = await nightly(
        sqlite_db,
        settings,
        exchange="sim-live",
        venue=venue,
        now=datetime(2025, 1, 2, 3, tzinfo=UTC),  # type: ignore[arg-type]
    )
    hourly, four_hourly = report["series"]
    assert hourly["skipped"].startswith("no candles stored for ETH/USDT 1h on sim-live")
    assert four_hourly["skipped"] == (
        "no 4h series on sim-live: the simulated feed makes 1h bars only ([market] timeframe); research 4h"
        " with `mt generate --symbols ETH/USDT --timeframes 4h`"
    )


async def test_a_nightly_seed_replays_a_workspaces_nights_from_its_start(
    sqlite_db: Any, frame: pd.DataFrame
) -> None:
    """``[generator] nightly_seed = N``: the first nightly run uses N, the next N + 1, whatever the date
    (the demo sets it so every fresh demo shows the same strategies); unset, the night's date seeds it."""
    await store_candles(sqlite_db, frame)
    settings = settings_with(count=10, population=8, generations=1, nightly_seed=41)
    settings = settings.model_copy(
        update={"market": settings.market.model_copy(update={"symbols": ["BTC/USDT"]})}
    )
    store = StrategyStore(sqlite_db)
    first = await nightly(sqlite_db, settings, exchange="sim", now=datetime(2025, 1, 2, 3, tzinfo=UTC))
    second = await nightly(sqlite_db, settings, exchange="sim", now=datetime(2031, 7, 9, 3, tzinfo=UTC))
    assert (first["seed"], second["seed"]) == (41, 42)
    runs = [await store.run(report["symbols"]["BTC/USDT"]["run_id"]) for report in (first, second)]
    assert [run.seed for run in runs] == [derive(41, "BTC/USDT", "1h"), derive(42, "BTC/USDT", "1h")]
    dated = settings.model_copy(
        update={"generator": settings.generator.model_copy(update={"nightly_seed": None})}
    )
    third = await nightly(sqlite_db, dated, exchange="sim", now=datetime(2025, 1, 3, 3, tzinfo=UTC))
    assert third["seed"] == 20250103


async def test_a_nightly_seed_moves_on_when_the_first_series_has_no_candles(
    sqlite_db: Any, frame: pd.DataFrame
) -> None:
    """The nights were counted on the universe's first series alone: while it had no candles (a symbol
    added in front, a timeframe not stored yet) it stored no run, and every night searched with seed N."""
    await store_candles(sqlite_db, frame)
    settings = settings_with(count=10, population=8, generations=1, nightly_seed=41)
    settings = settings.model_copy(
        update={"market": settings.market.model_copy(update={"symbols": ["ETH/USDT", "BTC/USDT"]})}
    )
    seeds = []
    for day in (2, 3):
        report = await nightly(sqlite_db, settings, exchange="sim", now=datetime(2025, 1, day, 3, tzinfo=UTC))
        assert "no candles" in report["symbols"]["ETH/USDT"]["skipped"]
        seeds.append(report["seed"])
    assert seeds == [41, 42]


async def test_the_scheduler_job_runs_the_nightly_function(sqlite_db: Any, frame: pd.DataFrame) -> None:
    import asyncio
    from types import SimpleNamespace

    from mastertrade.engine.generator.nightly import nightly_job
    from mastertrade.engine.services import build_jobs

    job = build_jobs().get("nightly_generation")
    assert job.func is nightly_job and job.unavailable_reason(SimpleNamespace()) is None
    await store_candles(sqlite_db, frame)
    settings = settings_with(count=20, population=16, generations=1)
    events: list[Any] = []
    progress: list[tuple[Any, ...]] = []
    ctx = SimpleNamespace(
        db=sqlite_db,
        settings=settings.model_copy(
            update={"market": settings.market.model_copy(update={"symbols": ["BTC/USDT"]})}
        ),
        venue=SimpleNamespace(id="sim", simulated=True),
        bus=SimpleNamespace(publish=events.append),
        # a simulated market: the wall clock is days past the market's night (the job's date and seed)
        clock=SimpleNamespace(now=lambda: datetime(2026, 12, 4, 1, tzinfo=UTC)),
        market_time=SimpleNamespace(now=lambda: datetime(2025, 1, 2, 3, tzinfo=UTC)),
    )
    run = SimpleNamespace(progress=lambda *args: progress.append(args))
    result = await nightly_job(ctx, run)  # type: ignore[arg-type]
    await asyncio.sleep(0)  # progress reports hop from the worker thread to the loop
    assert result["symbols"]["BTC/USDT"]["counts"]["stored"] == 20
    assert result["date"] == "2025-01-02"
    stored_run = await StrategyStore(sqlite_db).run(result["symbols"]["BTC/USDT"]["run_id"])
    assert stored_run.seed == derive(20250102, "BTC/USDT", "1h")  # seeded from the market's night
    assert progress and progress[-1][2] == "done"
    assert any("BTC/USDT: " in item[2] for item in progress)


async def test_paper_slots_go_to_different_hold_out_records(sqlite_db: Any) -> None:
    """Two passers that traded the hold-out identically (a stop never reached) are one bet: the second
    stays passed and the next different passer gets the slot."""
    from types import SimpleNamespace

    from mastertrade.engine.generator.nightly import start_paper

    store = StrategyStore(sqlite_db)
    same = {**OOS, "return_pct": 4.0, "final_equity": 10_400.0, "trade_stats": {"wins": 20.0}}
    other = {**OOS, "return_pct": 3.0, "final_equity": 10_300.0, "trade_stats": {"wins": 18.0}}
    path = PAPER_PATH
    sma = builtin("sma_cross", "BTC/USDT", "1h")
    best, clone, third = await store.add_many(
        [
            NewStrategy(sma.model_copy(update={"stop_loss": 0.04}), out_of_sample=same, deflated_sharpe=0.99,
                        path=path),
            NewStrategy(sma.model_copy(update={"stop_loss": 0.12}), out_of_sample=same, deflated_sharpe=0.98,
                        path=path),
            NewStrategy(builtin("ema_cross", "BTC/USDT", "1h"), out_of_sample=other, deflated_sharpe=0.97,
                        path=path),
        ]
    )  # fmt: skip
    summary = SimpleNamespace(run_id=7, passed=[clone, third, best])
    moved = await start_paper(store, summary, 2)  # type: ignore[arg-type]
    assert [item["id"] for item in moved] == [best.id, third.id]
    assert (await store.get(clone.id)).state is State.PASSED


def test_a_paper_move_says_when_the_strategy_did_worse_than_holding() -> None:
    """By the rule every report uses: less money or a lower Sharpe ratio than holding, both named; a
    strategy that stayed out of a falling market (no Sharpe ratio) is not said to lose to it."""
    from types import SimpleNamespace

    from mastertrade.engine.generator.nightly import _behind_holding

    def strategy(own: tuple[float | None, float], baseline: tuple[float | None, float] | None) -> Any:
        held = {"sharpe": own[0], "return_pct": own[1]}
        selection = (
            {}
            if baseline is None
            else {"holdout_buy_and_hold": {"sharpe": baseline[0], "return_pct": baseline[1]}}
        )
        return SimpleNamespace(selection=selection, holdout=held)

    assert _behind_holding(strategy((1.2, 40.0), (3.1, 90.0))) == (
        "; it does worse than buy-and-hold over its hold-out (return 40.00% against 90.00%, Sharpe 1.20"
        " against 3.10)"
    )
    # a better Sharpe ratio does not excuse a fraction of the money
    assert "return 30.00% against 300.00%" in _behind_holding(strategy((2.5, 30.0), (1.9, 300.0)))
    assert _behind_holding(strategy((None, 0.0), (None, -46.0))) == ""  # out of a falling market
    assert _behind_holding(strategy((3.5, 95.0), (3.1, 90.0))) == ""
    assert _behind_holding(strategy((1.0, 5.0), None)) == ""


def test_a_paper_strategy_not_promoted_within_max_paper_days_is_retired_saying_why() -> None:
    """A paper strategy that never trades (or never reaches the tolerance) was kept for ever, and the
    nightly job adds paper strategies every night: 81 in one night over 30 symbols."""
    never_traded = record(days=91, trades=0, return_pct=0.0, drawdown=0.0)
    decision = decide(stored(), never_traded, RULES)
    assert decision.action == "retire"
    assert decision.reason == (
        "not promoted within 90 days of paper trading: paper record too short: 91.0 of 14 days, 0 of 5 trades"
    )
    lagging = record(days=120, trades=40, return_pct=-4.0, drawdown=5.0)  # below tolerance, no decay
    assert decide(stored(), lagging, RULES).reason.startswith("not promoted within 90 days")
    assert decide(stored(), record(days=89, trades=0), RULES).action == "keep"  # not yet
    assert decide(stored(State.ACTIVE), never_traded, RULES).action == "keep"  # the account's are not timed
    assert decide(stored(), never_traded, RULES.model_copy(update={"max_paper_days": 0})).action == "keep"


def test_a_paper_strategy_the_rules_cannot_promote_is_not_retired_for_time() -> None:
    """A strategy the trader added (`mt strategy add --paper`) has no hold-out, so the rules can never
    promote it ("the backtest has no out-of-sample daily returns"); after max_paper_days they retired it,
    for good, for not being promoted. It is kept; its drawdown still retires it."""
    own = stored(daily_mean=None, daily_std=None)
    traded = record(days=120, trades=40, return_pct=3.0, drawdown=5.0)
    decision = decide(own, traded, RULES)
    assert decision == Decision(
        "keep",
        "the backtest has no out-of-sample daily returns to compare with; only `mt strategy activate`"
        " promotes it",
    )
    assert decide(own, record(days=120, trades=40, drawdown=30.0), RULES).action == "retire"
    assert decide(stored(), traded, RULES).action == "promote"  # with a hold-out, as before


def test_a_paper_time_limit_below_the_shortest_record_is_refused() -> None:
    with pytest.raises(ValueError, match="max_paper_days 10 is below min_paper_days 14"):
        GeneratorSettings(min_paper_days=14, max_paper_days=10)
    assert GeneratorSettings(min_paper_days=14, max_paper_days=0).max_paper_days == 0
