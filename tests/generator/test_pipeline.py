"""A generation run end to end on simulated candles: stored strategies, their validation, the filter on
out-of-sample numbers, the reference engine check, determinism, and the trading core's view."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
import pytest

from mastertrade.config import GeneratorSettings
from mastertrade.engine.generator.pipeline import GenerationRequest, generate
from mastertrade.engine.generator.states import State
from mastertrade.engine.generator.store import StrategyStore
from mastertrade.engine.generator.validation import threshold_failures
from mastertrade.engine.market.store import SeriesKey
from mastertrade.errors import NotFound, UserInputError
from tests.generator.helpers import LENIENT, settings_with, store_candles

SMALL = GenerationRequest(symbol="BTC/USDT", timeframe="1h", count=20, seed=3, population=16, generations=2)


async def test_a_run_stores_count_validated_strategies(database: Any, frame: pd.DataFrame) -> None:
    await store_candles(database, frame)
    summary = await generate(database, settings_with(), SMALL)
    assert summary.counts["stored"] == 20 == len(summary.strategies)
    assert summary.counts["distinct"] >= 20 and summary.counts["scored"] >= summary.counts["distinct"]
    assert summary.series == SeriesKey("sim", "BTC/USDT", "1h") and summary.series.simulated
    store = StrategyStore(database)
    stored = await store.list(generation_run_id=summary.run_id)
    assert {s.id for s in stored} == {s.id for s in summary.strategies}
    for strategy in stored:
        assert strategy.state in (State.PASSED, State.FAILED)
        # the search saw the oldest 75% (2,250 bars); the hold-out is the newest 750, after all of it
        assert strategy.metrics["bars"] == 2250 and strategy.out_of_sample["bars"] == 750
        assert strategy.in_sample["end"] < strategy.search["start"]
        assert strategy.search["end"] < strategy.out_of_sample["start"]
        assert strategy.selection["holdout"]["start"] == strategy.out_of_sample["start"]
        assert (
            len(strategy.folds) == 4 and strategy.folds[0]["search_test"]["start"] == strategy.search["start"]
        )
        assert strategy.seed is not None and strategy.exchange == "sim"
        history = await store.history(strategy.id)
        assert [t.to_state for t in history] == [State.GENERATED, State.BACKTESTED, strategy.state]
        assert history[0].reason.startswith(f"generation run {summary.run_id}: ")
    run = await store.run(summary.run_id)
    assert run.outcome == "ok" and run.seed == 3 and run.counts["stored"] == 20
    assert {"indicators_s", "evaluation_s", "validation_s", "storage_s", "total_s"} <= set(run.timings)
    assert run.parameters["population"] == 16


async def test_the_filter_looks_at_holdout_numbers_only(sqlite_db: Any, frame: pd.DataFrame) -> None:
    await store_candles(sqlite_db, frame)
    settings = settings_with(min_trades=3, min_oos_sharpe=0.5, min_deflated_sharpe=0.0, max_drawdown_pct=50.0)
    summary = await generate(sqlite_db, settings, SMALL)
    limits = settings.generator
    verdicts = set()
    for strategy in summary.strategies:
        failures = threshold_failures(strategy.out_of_sample, strategy.deflated_sharpe, limits)
        passed = not failures and strategy.reference_agrees is True
        assert (strategy.state is State.PASSED) is passed
        verdicts.add(passed)
    assert verdicts == {True, False}
    # the numbers judged are the hold-out's, every bar of them after the search window
    for strategy in summary.strategies:
        assert strategy.out_of_sample["window"] == "holdout"
        assert strategy.out_of_sample["start"] > strategy.search["end"]


def test_threshold_failures_name_every_bound() -> None:
    limits = GeneratorSettings(
        min_trades=10, max_exposure_pct=90, min_oos_sharpe=1, min_deflated_sharpe=0.95, max_drawdown_pct=20
    )
    good = {"trades": 12, "exposure_pct": 40.0, "sharpe": 1.5, "max_drawdown_pct": 10.0}
    assert threshold_failures(good, 0.97, limits) == []
    bad = {"trades": 4, "exposure_pct": 99.0, "sharpe": 0.2, "max_drawdown_pct": 30.0}
    assert threshold_failures(bad, 0.5, limits) == [
        "hold-out trades 4 < 10",
        "hold-out exposure 99.0% > 90%",
        "hold-out Sharpe 0.20 < 1",
        "hold-out drawdown 30.0% > 20%",
        "deflated Sharpe 0.500 < 0.95",
    ]
    assert "hold-out Sharpe undefined" in threshold_failures({**good, "sharpe": None}, None, limits)


async def test_finalists_are_rerun_on_the_reference_engine(sqlite_db: Any, frame: pd.DataFrame) -> None:
    await store_candles(sqlite_db, frame)
    summary = await generate(sqlite_db, settings_with(**LENIENT), SMALL)
    assert summary.passed
    assert summary.counts["reference_checked"] == len(summary.passed)
    for strategy in summary.passed:
        assert strategy.reference_agrees is True and strategy.reference is not None
        assert strategy.reference["trades_fast"] == strategy.reference["trades_reference"]
        assert strategy.reference["final_equity_fast"] == pytest.approx(
            strategy.out_of_sample["final_equity"], rel=1e-12
        )
        stats = strategy.out_of_sample["trade_stats"]
        assert stats["wins"] + stats["losses"] == strategy.out_of_sample["trades"]
    for strategy in summary.strategies:
        if strategy.state is State.FAILED:
            assert strategy.reference is None  # only finalists are re-run


async def test_a_reference_disagreement_fails_the_filter_loudly(
    sqlite_db: Any, frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from dataclasses import replace

    import mastertrade.engine.backtest.reference as reference

    original = reference.run_reference

    def skewed(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        return replace(result, equity=result.equity * 1.001)

    monkeypatch.setattr(reference, "run_reference", skewed)
    await store_candles(sqlite_db, frame)
    with caplog.at_level(logging.ERROR):
        summary = await generate(sqlite_db, settings_with(**LENIENT), SMALL)
    assert summary.counts["reference_disagreements"] > 0 and not summary.passed
    checked = [s for s in summary.strategies if s.reference is not None]
    assert checked and all(s.reference_agrees is False for s in checked)
    history = await StrategyStore(sqlite_db).history(checked[0].id)
    assert "reference engine disagrees: equity differs" in history[-1].reason
    assert "REFERENCE ENGINE DISAGREES" in caplog.text


async def test_same_seed_and_data_same_strategies_with_one_or_two_workers(
    frame: pd.DataFrame, tmp_path: Any
) -> None:
    from mastertrade.config import DbSettings
    from mastertrade.db.database import Database

    ids = []
    for workers in (1, 2):
        settings = settings_with().model_copy(
            update={"db": DbSettings(url=f"sqlite+aiosqlite:///{tmp_path}/w{workers}.db")}
        )
        async with await Database.open(settings) as db:
            await store_candles(db, frame)
            summary = await generate(
                db, settings, GenerationRequest(**{**SMALL.__dict__, "workers": workers})
            )
            ids.append([(s.id, s.state, s.seed, s.out_of_sample["sharpe"]) for s in summary.strategies])
    assert ids[0] == ids[1]


async def test_a_second_run_adds_new_strategies_only(sqlite_db: Any, frame: pd.DataFrame) -> None:
    await store_candles(sqlite_db, frame)
    first = await generate(sqlite_db, settings_with(), SMALL)
    second = await generate(sqlite_db, settings_with(), SMALL)
    assert not {s.id for s in first.strategies} & {s.id for s in second.strategies}
    assert second.counts["stored"] == 20


async def test_bad_requests_and_missing_data(sqlite_db: Any, frame: pd.DataFrame) -> None:
    with pytest.raises(NotFound):
        await generate(sqlite_db, settings_with(), SMALL)
    await store_candles(sqlite_db, frame.iloc[:60])
    with pytest.raises(UserInputError, match="too few"):
        await generate(sqlite_db, settings_with(), SMALL)
    with pytest.raises(UserInputError, match="invalid count 0"):
        await generate(
            sqlite_db, settings_with(), GenerationRequest(symbol="BTC/USDT", timeframe="1h", count=0)
        )
    assert [run.outcome for run in await StrategyStore(sqlite_db).runs()] == []


async def test_paper_and_active_strategies_are_what_the_trading_core_trades(
    sqlite_db: Any, frame: pd.DataFrame
) -> None:
    from mastertrade.engine.generator.source import StoredStrategies

    await store_candles(sqlite_db, frame)
    summary = await generate(sqlite_db, settings_with(**LENIENT), SMALL)
    store = StrategyStore(sqlite_db)
    first, second = summary.passed[:2]
    await store.transition(first.id, State.PAPER, "test")
    await store.transition(second.id, State.PAPER, "test")
    await store.transition(second.id, State.ACTIVE, "test")
    source = StoredStrategies(sqlite_db)
    traded = {item.id: item for item in await source.traded()}
    assert set(traded) == {first.id, second.id}
    assert traded[first.id].stage == "paper" and traded[second.id].stage == "active"
    assert traded[first.id].strategy.genome == first.genome and traded[first.id].symbol == "BTC/USDT"
    stats = first.out_of_sample["trade_stats"]
    assert traded[first.id].backtest.trades == stats["wins"] + stats["losses"]
    await store.transition(second.id, State.PAUSED, "test")
    assert [item.id for item in await source.traded()] == [first.id]


async def test_a_run_on_the_process_pool_validates_like_one_on_threads(
    sqlite_db: Any, frame: pd.DataFrame
) -> None:
    await store_candles(sqlite_db, frame)
    request = GenerationRequest(**{**SMALL.__dict__, "count": 8, "generations": 1, "workers": 2})
    summary = await generate(sqlite_db, settings_with(**LENIENT, executor="processes"), request)
    assert summary.counts["stored"] == 8 and summary.passed
    assert all(s.reference_agrees is True for s in summary.passed)


async def test_a_failed_run_is_recorded(
    sqlite_db: Any, frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mastertrade.engine.generator.pipeline as pipeline

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(pipeline, "compute", broken)
    await store_candles(sqlite_db, frame)
    with pytest.raises(RuntimeError):
        await generate(sqlite_db, settings_with(), SMALL)
    run = (await StrategyStore(sqlite_db).runs())[0]
    assert (run.outcome, run.error) == ("error", "RuntimeError: disk on fire")
    assert await StrategyStore(sqlite_db).list() == []
