"""What ``mt generate`` does around its search: the collector off while it starts up (and back on
whatever happens), the run's PBO computed on its own thread beside the hold-out scores, and the
stored snapshots it returns holding their genomes."""

from __future__ import annotations

import gc
import threading
from typing import Any

import pandas as pd
import pytest

from mastertrade.cli.generate import start_up
from mastertrade.engine.generator import pipeline
from mastertrade.engine.generator.pipeline import GenerationRequest, generate
from mastertrade.engine.signals.describe import describe
from mastertrade.engine.signals.genome import parse_genome
from tests.conftest import MT
from tests.generator.helpers import settings_with, store_candles


def test_the_collector_is_off_while_starting_up_and_back_on_after() -> None:
    assert gc.isenabled()
    with start_up():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), start_up():
        raise RuntimeError("a command that fails while starting up")
    assert gc.isenabled()


def test_a_generate_that_fails_early_leaves_the_collector_on(mt: MT) -> None:
    result = mt("generate", "--executor", "bogus")  # refused before the run starts
    assert result.exit_code == 2, result.stdout
    assert gc.isenabled()


async def test_the_pbo_runs_beside_the_holdout_scores(
    sqlite_db: Any, frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    search_pbo = pipeline.search_pbo

    def recorded(*args: Any) -> dict[str, Any] | None:
        threads.append(threading.current_thread().name)
        return search_pbo(*args)

    monkeypatch.setattr(pipeline, "search_pbo", recorded)
    await store_candles(sqlite_db, frame)
    request = GenerationRequest(
        symbol="BTC/USDT", timeframe="1h", count=6, seed=3, population=8, generations=1
    )
    summary = await generate(sqlite_db, settings_with(), request)
    assert len(threads) == 1 and threads[0].startswith("pbo")
    pbo = summary.selection["pbo"]
    assert pbo is not None and pbo["trials"] == summary.counts["stored"] == 6
    assert all(strategy.selection["pbo"] == pbo for strategy in summary.strategies)
    assert summary.timings["pbo_s"] > 0 and summary.timings["holdout_s"] > 0
    # the stored snapshots keep the genomes they were stored from: the same as parsing their rows
    for strategy in summary.strategies:
        assert strategy.parsed is not None
        assert strategy.genome == parse_genome(strategy.genome_data)
        assert strategy.description() == describe(parse_genome(strategy.genome_data))
