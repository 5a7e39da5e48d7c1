"""The dask executor against the threads executor on the same workload, and what more workers would give.

Workload: batches of random genomes (as the search's first generation makes them) scored by walk-forward on
one year of simulated 1h candles; every executor scores the same batches in the same order. Measured in
this run:

- the threads executor (the default on one machine: one warm scorer, the kernel on numba threads);
- the dask executor on a LocalCluster of 1 and of 2 worker processes (one thread each, 127.0.0.1);
- the scaling efficiency of dask from 1 to 2 workers: throughput(2) / (2 x throughput(1));
- the cost model of the dask executor: ``c``, a worker's wall seconds per genome on warm batches,
  ``t0``, the round trip of a batch of one trivial task, and ``s``, the scheduler's cost per extra task.
  A batch of ``B`` genomes on ``W`` workers (``n = min(2W, B/16)`` tasks, ``cluster.task_count``) then
  takes about ``B c / W + t0 + n s`` seconds; the projection for 8 and 64 workers comes from that
  formula.

Run it with ``python -m benchmarks cluster``. The batches are warm after the first (indicator caches
filled); "warm" figures leave the first batch out.
"""

from __future__ import annotations

import random
import time
from typing import Any

import mastertrade.engine.backtest  # noqa: F401  (numba's cache folder, before numba loads)
from benchmarks._util import report

BARS = 8760
BATCH = 256
BATCHES = 6


def _noop(value: int) -> int:
    return value


def workload() -> tuple[Any, list[list[Any]]]:
    from mastertrade.engine.generator.evaluation import Problem
    from mastertrade.engine.generator.variation import Limits, seed_genome
    from mastertrade.engine.market.sim import simulate

    frame = simulate("BTC/USDT", "1h", BARS, 7, end=1_735_689_600_000)
    rng = random.Random(11)
    batches = [
        [seed_genome(rng, symbol="BTC/USDT", timeframe="1h", limits=Limits()) for _ in range(BATCH)]
        for _ in range(BATCHES)
    ]
    return Problem(frame), batches


def run(executor: Any, batches: list[list[Any]]) -> tuple[float, float]:
    """(seconds for every batch, seconds for the warm batches: all but the first)."""
    started = time.perf_counter()
    executor.map(batches[0])
    first = time.perf_counter() - started
    for batch in batches[1:]:
        executor.map(batch)
    total = time.perf_counter() - started
    return total, total - first


def overheads(client: Any) -> tuple[float, float]:
    """(t0: round trip of one trivial task, s: the scheduler's cost per extra task), best of 5."""
    one, many = [], []
    for attempt in range(5):
        started = time.perf_counter()
        client.gather([client.submit(_noop, attempt, pure=False)])
        one.append(time.perf_counter() - started)
        started = time.perf_counter()
        client.gather([client.submit(_noop, i, pure=False) for i in range(200)])
        many.append(time.perf_counter() - started)
    t0 = min(one)
    return t0, max(0.0, (min(many) - t0) / 199)


def main() -> None:
    from mastertrade.engine.generator.cluster import DaskExecutor, session, task_count
    from mastertrade.engine.generator.executor import ThreadExecutor

    problem, batches = workload()
    scored = BATCH * BATCHES
    warm_scored = BATCH * (BATCHES - 1)
    print(f"  workload: {BATCHES} batches of {BATCH} random genomes on {BARS:,} 1h bars", flush=True)

    with ThreadExecutor(problem, 2) as threads:
        threads.map(batches[0][:8])  # load the compiled kernels
        total, warm = run(threads, batches)
    threads_rate = warm_scored / warm
    report("threads executor (2 numba threads), all batches", scored / total, "genomes/s")
    report("threads executor (2 numba threads), warm batches", threads_rate, "genomes/s")

    rates: dict[int, float] = {}
    model: dict[str, float] = {}
    for workers in (1, 2):
        with session(None, workers) as current:
            with DaskExecutor(problem, scheduler=None) as executor:
                executor.map(batches[0][:8])  # every worker: its scorer built, kernels loaded
                executor.map(batches[0][8:16])
                before = executor.timings()
                spent_before = before.indicators_s + before.signals_s + before.kernel_s
                scored_before = before.scored
                total, warm = run(executor, batches)
                after = executor.timings()
            rates[workers] = warm_scored / warm
            report(f"dask, {workers} local worker(s), all batches", scored / total, "genomes/s")
            report(
                f"dask, {workers} local worker(s), warm batches",
                rates[workers],
                "genomes/s",
                baseline=None,
            )
            if workers == 1:
                spent = after.indicators_s + after.signals_s + after.kernel_s - spent_before
                model["c_all"] = spent / (after.scored - scored_before)
                model["t0"], model["s"] = overheads(current.client)
                # the warm per-genome cost: wall of the warm batches minus their per-batch overheads
                model["c"] = max(
                    1e-9,
                    (warm - (BATCHES - 1) * (model["t0"] + task_count(BATCH, 1) * model["s"])) / warm_scored,
                )

    efficiency = rates[2] / (2 * rates[1])
    print(
        f"  dask 2 workers vs threads executor: {rates[2] / threads_rate:.2f}x;"
        f" dask 1 worker vs threads: {rates[1] / threads_rate:.2f}x",
        flush=True,
    )
    report("scaling efficiency of dask, 1 -> 2 workers", efficiency * 100, "%")
    c, t0, s = model["c"], model["t0"], model["s"]
    report("per-genome cost c on one worker (warm, wall)", c * 1e6, "us")
    report("per-genome compute on one worker, all batches (worker timings)", model["c_all"] * 1e6, "us")
    report("round trip of one trivial task t0", t0 * 1e3, "ms")
    report("scheduler cost per extra task s", s * 1e3, "ms")
    for batch in (BATCH, 1024):
        for workers in (8, 64):
            wall = batch * c / workers + t0 + task_count(batch, workers) * s
            rate = batch / wall
            print(
                f"  projection: batches of {batch:,} on {workers} workers: {rate:,.0f} genomes/s,"
                f" efficiency {batch * c / (workers * wall) * 100:.0f}%",
                flush=True,
            )


if __name__ == "__main__":
    main()
