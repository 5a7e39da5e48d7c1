"""The dask executor on a real LocalCluster (two worker processes on 127.0.0.1, one thread each): the same
scores in input order as one local scorer, warm scorers kept per worker, the same stored strategies as the
threads executor for the same seed, and no result lost when a worker is killed in the middle of a batch."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mastertrade.engine.generator.evaluation import Problem, Score, Scorer
from mastertrade.engine.generator.pipeline import GenerationRequest, generate
from mastertrade.engine.generator.store import StrategyStore
from mastertrade.engine.generator.variation import Limits, seed_genome
from mastertrade.engine.signals.genome import Genome
from mastertrade.errors import UserInputError
from tests.generator.helpers import settings_with, store_candles

pytest.importorskip("distributed")

from mastertrade.engine.generator import cluster  # noqa: E402
from mastertrade.engine.generator.cluster import DaskExecutor  # noqa: E402


@pytest.fixture(scope="module")
def local_cluster() -> Iterator[Any]:
    """Two worker processes on 127.0.0.1, one thread each (the LocalCluster a user gets, made smaller)."""
    import logging

    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",  # a free port: never collides with another cluster on 8787
        silence_logs=logging.WARNING,
    ) as found:
        yield found


def genomes(count: int, seed: int = 0) -> list[Genome]:
    return [
        seed_genome(random.Random(seed * 100_000 + i), symbol="BTC/USDT", timeframe="1h", limits=Limits())
        for i in range(count)
    ]


def same(first: list[Score], second: list[Score]) -> bool:
    return len(first) == len(second) and all(
        np.array_equal(a.values, b.values, equal_nan=True)
        and np.array_equal(a.moments, b.moments, equal_nan=True)
        and a.error == b.error
        for a, b in zip(first, second, strict=True)
    )


def test_scores_come_back_in_input_order_from_warm_worker_scorers(
    local_cluster: Any, problem: Problem
) -> None:
    batch = genomes(40)
    expected = Scorer(problem).score(batch)
    with DaskExecutor(problem, scheduler=local_cluster.scheduler_address, chunk=3) as executor:
        assert same(executor.map(batch), expected)
        assert same(executor.map(batch[::-1]), expected[::-1])
        assert executor.timings().scored == 80
        key = executor._problem.name  # type: ignore[union-attr]

        def scored_here(key: str = key) -> int:
            from mastertrade.engine.generator import cluster as on_worker

            return on_worker._scorers[key][0].timings.scored

        # each worker built one scorer for the problem and kept it across both batches
        per_worker = executor.client.run(scored_here)
        assert len(per_worker) == 2 and sum(per_worker.values()) == 80
        assert all(count > 0 for count in per_worker.values())


async def test_same_seed_gives_the_same_stored_strategies_with_threads_and_with_dask(
    local_cluster: Any, frame: pd.DataFrame, tmp_path: Any
) -> None:
    from mastertrade.config import DbSettings
    from mastertrade.db.database import Database

    request = GenerationRequest(
        symbol="BTC/USDT", timeframe="1h", count=12, seed=21, population=16, generations=2, workers=2
    )
    found = []
    for name, changes in (
        ("threads", {"executor": "threads"}),
        ("dask", {"executor": "dask", "scheduler": local_cluster.scheduler_address}),
    ):
        settings = settings_with(**changes).model_copy(
            update={"db": DbSettings(url=f"sqlite+aiosqlite:///{tmp_path}/{name}.db")}
        )
        async with await Database.open(settings) as db:
            await store_candles(db, frame)
            summary = await generate(db, settings, request)
            run = await StrategyStore(db).run(summary.run_id)
            assert run.parameters["executor"] == name
        found.append(
            [
                (s.id, s.state, s.seed, s.genome, s.metrics, s.out_of_sample, s.folds, s.deflated_sharpe)
                for s in summary.strategies
            ]
        )
    assert len(found[0]) == 12
    assert found[0] == found[1]


def test_a_worker_killed_in_the_middle_of_a_batch_loses_no_result(
    local_cluster: Any, problem: Problem
) -> None:
    # enough tasks that a worker is still busy with ours, others waiting, when the killer looks: the
    # compiled indicators and signals score a chunk of two in about a millisecond, so 400 genomes were
    # sometimes all scored (CI, under load) before the killer's thread ran; 1,200, scored in detail
    # (every window), keep the workers busy for seconds
    batch = genomes(1_200, seed=1)
    expected = Scorer(problem).score(batch, detail=True)
    with DaskExecutor(problem, scheduler=local_cluster.scheduler_address, chunk=2) as executor:
        executor.map(batch[:4])  # both workers warm (scorer built, kernel loaded)
        scheduler = local_cluster.scheduler
        killed: dict[str, Any] = {}

        def kill_a_busy_worker() -> None:
            # as soon as a worker is processing our tasks while others still wait, kill its process
            while not killed:
                for state in list(scheduler.workers.values()):
                    mine = [t for t in state.processing if t.key.startswith(f"mt-score-{executor._tag}")]
                    waiting = [
                        t
                        for t in list(scheduler.tasks.values())
                        if str(t.key).startswith(f"mt-score-{executor._tag}") and t.state != "memory"
                    ]
                    if mine and len(waiting) > 10:
                        nanny = next(
                            n for n in local_cluster.workers.values() if n.worker_address == state.address
                        )
                        killed.update(address=state.address, pending=len(waiting))
                        os.kill(nanny.process.process.pid, signal.SIGKILL)
                        return
                threading.Event().wait(0.002)

        killer = threading.Thread(target=kill_a_busy_worker, daemon=True)
        killer.start()
        started = time.perf_counter()
        scores = executor.map(batch, detail=True)
        took = time.perf_counter() - started
        killer.join(timeout=5)
    assert killed, f"no worker was killed while the batch ran ({took:.2f} s)"
    assert killed["pending"] > 10, took
    assert same(scores, expected)


def test_choosing_dask_without_the_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from mastertrade.engine.generator import cluster_address

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "distributed" else real(name, *a)
    )
    with pytest.raises(UserInputError, match=r"pip install 'mastertrade\[cluster\]'"):
        cluster_address.require_dask()


@pytest.mark.parametrize(
    "address", ["localhost:8786", "http://host:8786", "tcp://host", "tcp://:80", "tcp://h:x"]
)
def test_bad_scheduler_addresses_are_named(address: str) -> None:
    from mastertrade.engine.generator.cluster_address import check_address

    with pytest.raises(UserInputError, match="invalid scheduler address"):
        check_address(address)


def test_chunks_keep_order_and_cover_everything() -> None:
    items = list(range(23))
    for parts in (1, 2, 4, 7, 23, 50):
        cut = cluster.chunks(items, parts)
        assert len(cut) <= parts and [x for chunk in cut for x in chunk] == items


async def test_a_universe_on_the_cluster_stores_what_it_stores_on_threads(
    local_cluster: Any, frame: pd.DataFrame, tmp_path: Any
) -> None:
    from mastertrade.config import DbSettings
    from mastertrade.db.database import Database
    from mastertrade.engine.generator.universe import generate_universe

    template = GenerationRequest(symbol="-", timeframe="1h", count=6, population=8, generations=1)
    series = [("BTC/USDT", "1h"), ("ETH/USDT", "1h"), ("SOL/USDT", "1h")]
    found = []
    for name, changes in (
        ("threads", {"executor": "threads"}),
        ("dask", {"executor": "dask", "scheduler": local_cluster.scheduler_address}),
    ):
        settings = settings_with(**changes).model_copy(
            update={"db": DbSettings(url=f"sqlite+aiosqlite:///{tmp_path}/u-{name}.db")}
        )
        async with await Database.open(settings) as db:
            await store_candles(db, frame, "BTC/USDT")
            await store_candles(db, frame.iloc[::-1].set_axis(frame.index), "ETH/USDT")  # another path
            progress: list[float] = []
            seed, outcomes = await generate_universe(
                db,
                settings,
                template,
                series,
                seed=4,
                progress=lambda d, t, m, seen=progress: seen.append(d / t),
            )
        assert seed == 4 and progress[-1] == 1.0
        assert "no candles" in (outcomes[2].skipped or "")
        found.append(
            [
                [(s.id, s.state, s.out_of_sample, s.deflated_sharpe) for s in outcome.summary.strategies]
                for outcome in outcomes[:2]
                if outcome.summary is not None
            ]
        )
    assert len(found[0]) == 2 and all(len(runs) == 6 for runs in found[0])
    assert found[0] == found[1]


def test_batch_backtests_on_the_cluster_equal_local_ones_in_order(
    local_cluster: Any, mt: Any, frame: pd.DataFrame, tmp_path: Any
) -> None:
    import asyncio
    import json

    from mastertrade.config import load_settings
    from mastertrade.db.database import Database
    from mastertrade.engine.backtest.metrics import METRIC_KEYS

    async def store() -> None:
        async with await Database.open(load_settings()) as db:
            await store_candles(db, frame)

    asyncio.run(store())
    batch = tmp_path / "genomes.jsonl"
    batch.write_text("\n".join(g.to_json(indent=None) for g in genomes(30, seed=2)) + "\n", encoding="utf-8")
    series = ["--symbol", "BTC/USDT", "--timeframe", "1h"]
    local = mt("backtest", "--batch", str(batch), *series)
    remote = mt(
        "backtest",
        "--batch",
        str(batch),
        *series,
        "--executor",
        "dask",
        "--scheduler",
        local_cluster.scheduler_address,
    )
    assert local.exit_code == 0 and remote.exit_code == 0, remote.stderr
    lines = [[json.loads(line) for line in result.stdout.splitlines()] for result in (local, remote)]
    assert [line["index"] for line in lines[1]] == list(range(30))
    assert [{key: line[key] for key in METRIC_KEYS} for line in lines[0]] == [
        {key: line[key] for key in METRIC_KEYS} for line in lines[1]
    ]
    assert all(line["executor"] == "dask" for line in lines[1])
    refused = mt("backtest", "sma_cross", *series, "--executor", "dask")
    assert refused.exit_code == 2 and "--executor applies to --batch only" in refused.stderr


def test_when_the_cluster_loses_every_copy_of_the_problem_it_is_shipped_again(
    local_cluster: Any, problem: Problem
) -> None:
    batch = genomes(12, seed=3)
    expected = Scorer(problem).score(batch)
    with DaskExecutor(problem, scheduler=local_cluster.scheduler_address, chunk=3) as executor:
        shipped = executor._problem
        assert shipped is not None and shipped.future is not None
        lost = shipped.future
        executor.client.cancel(lost)  # what the scheduler does when the last worker holding it dies
        assert same(executor.map(batch), expected)
        assert shipped.future is not lost and shipped.future.status == "finished"


async def test_the_nightly_run_spreads_its_universe_over_the_cluster(
    local_cluster: Any, frame: pd.DataFrame, tmp_path: Any
) -> None:
    from datetime import UTC, datetime

    from mastertrade.config import DbSettings, MarketSettings
    from mastertrade.db.database import Database
    from mastertrade.engine.generator.nightly import nightly

    settings = settings_with(
        executor="dask",
        scheduler=local_cluster.scheduler_address,
        timeframes=["1h", "4h"],
        count=6,
        population=8,
        generations=1,
    ).model_copy(
        update={
            "db": DbSettings(url=f"sqlite+aiosqlite:///{tmp_path}/nightly.db"),
            "market": MarketSettings(symbols=["BTC/USDT", "ETH/USDT"], timeframe="1h"),
        }
    )
    async with await Database.open(settings) as db:
        await store_candles(db, frame, "BTC/USDT")
        await store_candles(db, frame, "ETH/USDT")
        report = await nightly(db, settings, exchange="sim", now=datetime(2025, 1, 2, 3, tzinfo=UTC))
        store = StrategyStore(db)
        ran = [entry for entry in report["series"] if "run_id" in entry]
        assert [(e["symbol"], e["timeframe"]) for e in ran] == [("BTC/USDT", "1h"), ("ETH/USDT", "1h")]
        assert all("no candles" in e["skipped"] for e in report["series"] if e["timeframe"] == "4h")
        assert report["symbols"]["ETH/USDT"] is ran[1] and ran[1]["counts"]["stored"] == 6
        for entry in ran:
            run = await store.run(entry["run_id"])
            assert run.trigger == "nightly" and run.parameters["executor"] == "dask"


def test_losing_the_scheduler_mid_run_is_said_in_one_line_naming_it() -> None:
    """A nightly run whose scheduler stopped failed as "CommClosedError: in <TCP (closed)
    ConnectionPool.gather local=... remote=...>: Stream is closed"; it names the scheduler it lost."""
    from types import SimpleNamespace

    from distributed.comm.core import CommClosedError

    from mastertrade.errors import OperationFailed

    closed = CommClosedError("in <TCP (closed) ConnectionPool.gather>: Stream is closed")
    cancelled: list[Any] = []

    class Lost:
        def result(self) -> Any:
            raise closed

    client = SimpleNamespace(
        scheduler=SimpleNamespace(address="tcp://10.0.0.5:8786"), cancel=cancelled.append
    )
    shipped = SimpleNamespace(client=client, future=object())
    with pytest.raises(OperationFailed) as caught:
        list(cluster.ordered_results(shipped, lambda data, index: Lost(), 3))  # type: ignore[arg-type]
    assert str(caught.value) == (
        "lost the dask scheduler at tcp://10.0.0.5:8786 during the run"
        " (in <TCP (closed) ConnectionPool.gather>: Stream is closed)"
    )
    assert len(cancelled) == 1 and len(cancelled[0]) == 3  # nothing left submitted
