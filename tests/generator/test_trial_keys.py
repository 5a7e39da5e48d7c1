"""Each configuration counted once in the trial registry, whichever command scored it and on whichever
overlapping bars: ``mt generate``'s candidates carry the same keys as ``mt optimize``'s trials
(:func:`~mastertrade.engine.generator.trials.genome_trial_key`), a run again with its seed counts only
what it had not scored, and a tuning on a shifted, overlapping window does not count its trials twice."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlmodel import col, select

from mastertrade.db.models.strategies import SelectionTrialKey, SelectionTrials
from mastertrade.engine.generator.optimize import subject_of
from mastertrade.engine.generator.pipeline import GenerationRequest, generate
from mastertrade.engine.generator.search import Search, SearchResult
from mastertrade.engine.generator.store import StrategyStore
from mastertrade.engine.generator.trials import Tally, TrialRegistry, genome_trial_key
from mastertrade.engine.market.store import SeriesKey
from mastertrade.engine.signals.strategy import Strategy
from tests.conftest import MT
from tests.generator.helpers import settings_with, store_candles
from tests.generator.test_optimize import SIM

SERIES = SeriesKey("sim", "BTC/USDT", "1h")
REQUEST = GenerationRequest(symbol="BTC/USDT", timeframe="1h", count=10, seed=3, population=16, generations=2)
TUNE = ("optimize", "rsi_reversion", "--symbol", "BTC-EDGE/USDT", "--timeframe", "1d", "--trials", "8")


async def keys_of(db: Any, run_id: int) -> set[str]:
    query = (
        select(SelectionTrialKey.key)
        .join(SelectionTrials, col(SelectionTrials.id) == col(SelectionTrialKey.batch_id))
        .where(col(SelectionTrials.generation_run_id) == run_id)
    )
    async with db.sessions() as session:
        return set((await session.exec(query)).all())


async def test_the_registry_counts_a_key_once_among_the_batches_of_overlapping_bars(database: Any) -> None:
    registry = TrialRegistry(database)  # SQLite and Postgres: the count of distinct keys is SQL
    one = Tally.of(2, [0.1, 0.3])
    await registry.record(SERIES, 0, 100, one, source="optimize", keys=["a", "b"])
    await registry.record(SERIES, 50, 150, one, source="optimize", keys=["b", "c"])
    await registry.record(SERIES, 140, 160, Tally.of(3, [0.2]), source="rl")  # no keys: all three count
    # "b" was scored on both windows: counted once wherever both batches are pooled, in both moments
    assert (await registry.tally(SERIES, 0, 100)).trials == 3
    both = await registry.tally(SERIES, 90, 100)
    assert both.trials == 3 and both.count == 4 and both.batches == 2
    # a window that overlaps only the later batch still counts "b" (kept in that batch)
    assert (await registry.tally(SERIES, 120, 130)).trials == 2
    assert (await registry.tally(SERIES, 120, 200)).trials == 5
    # "a" again far later: alone there it counts, and over everything once (a, b, c and the three)
    await registry.record(SERIES, 500, 600, Tally.of(1, [0.2]), source="optimize", keys=["a"])
    assert (await registry.tally(SERIES, 550, 560)).trials == 1
    assert (await registry.tally(SERIES, 0, 600)).trials == 6
    counted = await registry.counted(SERIES, 50, 150, ["a", "b", "c", "d"])
    assert counted.overlapping == {"a", "b", "c"} and counted.exact == {"b", "c"}
    assert (await registry.counted(SERIES, 151, 200, ["b", "c"])).overlapping == frozenset()
    other = SeriesKey("sim", "ETH/USDT", "1h")
    assert (await registry.counted(other, 0, 200, ["a"])).overlapping == frozenset()


async def test_a_generation_run_again_with_its_seed_counts_only_the_candidates_it_had_not_scored(
    sqlite_db: Any, frame: pd.DataFrame
) -> None:
    await store_candles(sqlite_db, frame)
    settings = settings_with()
    first = await generate(sqlite_db, settings, REQUEST)
    counted = first.selection["deflated_trials"]
    assert counted["trials"] == counted["this_run"] == first.counts["distinct"]
    assert counted["counted_before"] == 0
    # the run keeps the key of each candidate it counted: the key `mt optimize` gives the same genome
    keys = await keys_of(sqlite_db, first.run_id)
    assert len(keys) == first.counts["distinct"]
    assert {genome_trial_key(s.genome) for s in first.strategies} <= keys
    # the same seed on the same bars breeds the same first generation: all but the stored ones
    # (which the search skips) are scored again, and not counted again (before: N doubled)
    again = await generate(sqlite_db, settings, REQUEST)
    trials = again.selection["deflated_trials"]
    before = trials["counted_before"]
    assert before > 0 and trials["this_run"] == again.counts["distinct"] - before
    assert trials["trials"] == first.counts["distinct"] + trials["this_run"]
    assert len(keys | await keys_of(sqlite_db, again.run_id)) == trials["trials"]
    assert all(s.selection["deflated_trials"]["trials"] == trials["trials"] for s in again.strategies)
    span = (int(frame.index[0].value // 1_000_000), int(frame.index[-1].value // 1_000_000))
    assert (await TrialRegistry(sqlite_db).tally(SERIES, *span)).trials == trials["trials"]


async def test_a_batch_recorded_during_a_run_is_in_its_count_as_well_as_its_keys(
    sqlite_db: Any, frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs of one series at once: the other run records its batch while this one searches. Its keys
    found this run's candidates "counted before", so its trials must be in this run's N too (the tally was
    read before the search: N left them out, 1,351 where the registry then held 2,674)."""
    await store_candles(sqlite_db, frame)
    span = (int(frame.index[0].value // 1_000_000), int(frame.index[-1].value // 1_000_000))
    registry = TrialRegistry(sqlite_db)
    loop = asyncio.get_running_loop()
    searched = Search.run

    def search_while_another_run_records(self: Search) -> SearchResult:
        result = searched(self)
        shared = [genome_trial_key(c.genome) for c in result.archive[:5]]
        other = registry.record(
            SERIES, *span, Tally.of(10, [0.1] * 10), source="generate", keys=[*shared, *"vwxyz"]
        )
        asyncio.run_coroutine_threadsafe(other, loop).result()  # from the search's worker thread
        return result

    monkeypatch.setattr(Search, "run", search_while_another_run_records)
    summary = await generate(sqlite_db, settings_with(), REQUEST)
    trials = summary.selection["deflated_trials"]
    assert trials["counted_before"] == 5 and trials["this_run"] == summary.counts["distinct"] - 5
    assert trials["trials"] == 10 + trials["this_run"]  # the other run's ten, then this run's new ones
    assert (await registry.tally(SERIES, *span)).trials == trials["trials"]


async def test_a_tuning_finds_the_genomes_a_generation_run_counted(
    sqlite_db: Any, frame: pd.DataFrame
) -> None:
    await store_candles(sqlite_db, frame)
    summary = await generate(sqlite_db, settings_with(), REQUEST)
    stored = await StrategyStore(sqlite_db).get(summary.strategies[0].id)
    genome = stored.genome
    assert genome is not None
    # `mt optimize` keys a trial of that genome, renamed as a file would be, as the run did
    subject = subject_of(Strategy.from_genome(genome.model_copy(update={"name": "mine"})))
    key = subject.trial_key(genome.model_copy(update={"name": "renamed"}))
    span = (int(frame.index[0].value // 1_000_000), int(frame.index[-1].value // 1_000_000))
    counted = await TrialRegistry(sqlite_db).counted(SERIES, *span, [key])
    assert counted.overlapping == counted.exact == {key}


def test_an_evolution_from_a_tuned_genome_does_not_count_it_again(mt: MT, tmp_path: Path) -> None:
    assert mt(*SIM).exit_code == 0
    best = tmp_path / "best.json"
    tuned = mt.json(*TUNE, "--seed", "3", "--out", str(best))
    args = ("--symbol", "BTC-EDGE/USDT", "--timeframe", "1d", "--evolve")
    small = ("--count", "4", "--population", "8", "--generations", "1", "--seed", "2")
    evolved = mt.json("optimize", str(best), *args, *small)
    trials = evolved["selection"]["deflated_trials"]
    # its first generation scores the tuned genome itself (the seed): the tuning counted it
    assert trials["counted_before"] >= 1
    assert trials["this_run"] == evolved["counts"]["distinct"] - trials["counted_before"]
    assert trials["trials"] == tuned["distinct_trials"] + trials["this_run"]


def test_tunings_on_shifted_overlapping_windows_count_each_configuration_once(mt: MT) -> None:
    assert mt(*SIM).exit_code == 0  # 1,200 daily bars to 2025-01-01
    # the same seed samples the same first parameter sets (TPE's random start-up) on any window
    early = mt.json(*TUNE, "--seed", "3", "--end", "2023-06-01")
    middle = mt.json(*TUNE, "--seed", "3", "--start", "2022-06-01")
    late = mt.json(*TUNE, "--seed", "3", "--start", "2023-07-01")
    distinct = early["distinct_trials"]
    assert distinct >= 2 and middle["distinct_trials"] == late["distinct_trials"] == distinct
    assert early["deflated_trials"]["trials"] == distinct
    # the window shifted by a year overlaps the first: the same configurations, counted once (before: twice)
    shifted = middle["deflated_trials"]
    assert shifted["counted_before"] == distinct and shifted["this_run"] == 0
    assert shifted["trials"] == distinct and shifted["batches"] == 2  # the first's and its own
    # the latest window overlaps only the middle one (its batch and the middle's are pooled, not the
    # first's), which kept them: still counted, once
    latest = late["deflated_trials"]
    assert latest["batches"] == 2 and latest["trials"] == distinct
    assert latest["counted_before"] == distinct and latest["this_run"] == 0


def test_a_tuning_counts_a_configuration_once_whatever_the_symbols_spelling(mt: MT, tmp_path: Path) -> None:
    assert mt(*SIM).exit_code == 0
    first = mt.json(*TUNE, "--seed", "3")
    spelled = ("--symbol", "btc-edge/usdt")  # finds and means the stored BTC-EDGE/USDT
    again = mt.json(*TUNE[:2], *spelled, *TUNE[4:], "--seed", "3", "--out", str(tmp_path / "best.json"))
    assert again["symbol"] == "BTC-EDGE/USDT" and again["best"]["genome"]["symbol"] == "BTC-EDGE/USDT"
    counted = again["deflated_trials"]
    assert counted["counted_before"] == first["distinct_trials"] and counted["this_run"] == 0
    assert counted["trials"] == first["distinct_trials"]


def test_the_upgrade_marks_the_keys_tunings_kept_again(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import create_engine, text

    from mastertrade.db.migrate import alembic_config

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    batch = (
        "INSERT INTO selection_trials (id, exchange, symbol, timeframe, start_ts, end_ts, source, trials,"
        " sharpe_count, sharpe_mean, sharpe_m2, created_at) VALUES"
        " ({id}, 'sim', '{symbol}', '1h', {start}, {end}, 'optimize', 2, 0, 0, 0, '2026-12-01 00:00:00')"
    )
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "s33_trial_keys")
        for id_, symbol, start, end in (
            (1, "BTC/USDT", 0, 100),
            (2, "ETH/USDT", 0, 100),
            (3, "BTC/USDT", 50, 150),
        ):
            connection.execute(text(batch.format(id=id_, symbol=symbol, start=start, end=end)))
        for batch_id, key in ((1, "a"), (1, "b"), (2, "b"), (3, "b"), (3, "c")):
            connection.execute(
                text(f"INSERT INTO selection_trial_keys (batch_id, key) VALUES ({batch_id}, '{key}')")
            )
        command.upgrade(alembic_config(connection), "heads")
    with engine.connect() as connection:
        marked = connection.execute(
            text("SELECT batch_id, key FROM selection_trial_keys WHERE seen_before ORDER BY batch_id")
        ).all()
    # only the later BTC/USDT row of "b": ETH/USDT's "b" is another series' trial
    assert [tuple(row) for row in marked] == [(3, "b")]
