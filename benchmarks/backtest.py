"""Backtesting speed: the fast engine's backtests per second per core on one year of 1h bars over random
genomes with indicators cached (target >= 10,000/s/core), against the reference engine (backtesting.py)
on the same genomes; and a cold `mt backtest sma_cross` end to end on one year of 1h data (target < 3 s
once numba's on-disk cache holds the compiled kernels; the very first run compiles them)."""

from __future__ import annotations

import os
import subprocess
import time
from collections import deque
from typing import Any

import numpy as np

import mastertrade.engine.backtest  # noqa: F401  (numba's cache folder, before numba loads)
from benchmarks._util import mt_executable, report, scratch_home, timed

BARS = 8760  # one year of hourly bars
GENOMES = 2000
REFERENCE_GENOMES = 20


def engines() -> None:
    from mastertrade.engine.backtest.batch import run_batch
    from mastertrade.engine.backtest.fast import simulate_many
    from mastertrade.engine.backtest.metrics import Calendar
    from mastertrade.engine.backtest.params import order_params
    from mastertrade.engine.backtest.reference import run_reference
    from mastertrade.engine.backtest.result import FRACTIONAL_UNIT
    from mastertrade.engine.market.sim import simulate
    from mastertrade.engine.signals.evaluate import signals
    from mastertrade.engine.signals.indicators import IndicatorCache
    from mastertrade.engine.signals.random_genome import random_genome

    frame = simulate("BTC/USDT", "1h", BARS, 1, end=1_735_689_600_000)
    genomes = [random_genome(seed, stops=None) for seed in range(GENOMES)]
    cache = IndicatorCache(frame)
    started = time.perf_counter()
    pairs = [signals(genome, cache) for genome in genomes]  # computes every indicator once
    report(f"first signals of {GENOMES} genomes (computes indicators)", time.perf_counter() - started, "s")
    started = time.perf_counter()
    pairs = [signals(genome, cache) for genome in genomes]
    per_signal = (time.perf_counter() - started) / GENOMES
    report("signals of one genome, indicators cached", per_signal * 1e6, "us")

    entries = np.stack([pair[0] for pair in pairs])
    exits = np.stack([pair[1] for pair in pairs])
    params = np.array([order_params(genome).kernel_args() for genome in genomes]).T.copy()
    trades = [int(e.sum()) for e in entries]
    print(f"  ({np.mean([t > 0 for t in trades]) * 100:.0f}% of the random genomes signal at least once)")
    prices = [np.ascontiguousarray(frame[c].to_numpy()) for c in ("open", "high", "low", "close")]
    calendar = Calendar.from_ts(frame.index.as_unit("ms").asi8)

    def kernel(workers: int) -> None:
        simulate_many(
            *prices, entries, exits, params[0], params[1], params[2], params[3],
            10_000.0, 0.001, FRACTIONAL_UNIT, calendar.day_last, calendar.years, workers,
        )  # fmt: skip

    kernel(1)  # compile or load from the cache
    one_core, _ = timed(lambda: kernel(1), 3)
    all_cores, _ = timed(lambda: kernel(os.cpu_count() or 1), 3)
    fast_rate = GENOMES / one_core

    subset = list(range(REFERENCE_GENOMES))
    run_reference(frame, entries[0], exits[0], order_params(genomes[0]))  # imports, warm-up
    started = time.perf_counter()
    for g in subset:
        run_reference(frame, entries[g], exits[g], order_params(genomes[g]))
    reference_rate = REFERENCE_GENOMES / (time.perf_counter() - started)

    report("reference engine (backtesting.py), backtests/s", reference_rate, "/s")
    print(
        f"{'fast engine kernel + metrics, 1 core, backtests/s':<52} {fast_rate:>10,.0f} /s"
        f"  ({fast_rate / reference_rate:,.0f}x the reference engine)  [target >= 10,000/s/core]",
        flush=True,
    )
    report(
        f"fast engine kernel + metrics, all {os.cpu_count()} cores, backtests/s", GENOMES / all_cores, "/s"
    )
    started = time.perf_counter()
    for _ in run_batch(genomes, frame, cache=cache):
        pass
    report(
        "run_batch end to end (signals + engine), backtests/s",
        GENOMES / (time.perf_counter() - started),
        "/s",
    )


PAIRS = [(fast, slow) for fast in range(5, 55) for slow in range(60, 260, 10)]  # 1,000 SMA pairs


def sma_pairs() -> None:
    """End to end on 1,000 SMA-crossover pairs, indicators and signals included: ``run_batch`` with a fresh
    indicator cache against a hand-written numba loop (its own SMAs and crossings in numba, then the same
    compiled backtest and metrics kernel), on the same bars, in the same run."""
    import numba

    from mastertrade.engine.backtest.batch import run_batch
    from mastertrade.engine.backtest.fast import simulate_many
    from mastertrade.engine.backtest.metrics import Calendar
    from mastertrade.engine.backtest.result import FRACTIONAL_UNIT
    from mastertrade.engine.market.sim import simulate
    from mastertrade.engine.signals.genome import parse_genome

    @numba.njit(cache=False, nogil=True, parallel=True)
    def hand_signals(close: Any, pairs: Any) -> tuple[Any, Any]:
        count, n = pairs.shape[0], close.shape[0]
        entries = np.zeros((count, n), dtype=np.bool_)
        exits = np.zeros((count, n), dtype=np.bool_)
        for g in numba.prange(count):
            fast, slow = pairs[g, 0], pairs[g, 1]
            a = np.full(n, np.nan)
            b = np.full(n, np.nan)
            total_a = 0.0
            total_b = 0.0
            for i in range(n):
                total_a += close[i]
                total_b += close[i]
                if i >= fast:
                    total_a -= close[i - fast]
                if i >= slow:
                    total_b -= close[i - slow]
                if i >= fast - 1:
                    a[i] = total_a / fast
                if i >= slow - 1:
                    b[i] = total_b / slow
            for i in range(1, n):
                entries[g, i] = a[i] > b[i] and a[i - 1] <= b[i - 1]
                exits[g, i] = a[i] < b[i] and a[i - 1] >= b[i - 1]
        return entries, exits

    frame = simulate("BTC/USDT", "1h", BARS, 1, end=1_735_689_600_000)
    genomes = [
        parse_genome(
            {
                "name": f"sma-{fast}-{slow}",
                "entry": {"crosses_above": [{"ind": "sma", "length": fast}, {"ind": "sma", "length": slow}]},
                "exit": {"crosses_below": [{"ind": "sma", "length": fast}, {"ind": "sma", "length": slow}]},
            }
        )
        for fast, slow in PAIRS
    ]
    prices = [np.ascontiguousarray(frame[c].to_numpy()) for c in ("open", "high", "low", "close")]
    calendar = Calendar.from_ts(frame.index.as_unit("ms").asi8)
    pairs = np.array(PAIRS, dtype=np.int64)
    ones, zeros = np.ones(len(PAIRS)), np.zeros(len(PAIRS))
    workers = numba.get_num_threads()

    def hand() -> None:
        entries, exits = hand_signals(prices[3], pairs)
        simulate_many(
            *prices, entries, exits, zeros, zeros, zeros, ones,
            10_000.0, 0.001, FRACTIONAL_UNIT, calendar.day_last, calendar.years, workers,
        )  # fmt: skip

    def engine() -> None:
        deque(run_batch(genomes, frame), maxlen=0)  # a fresh indicator cache: indicators included

    hand()
    engine()  # compile or load, imports
    hand_best, _ = timed(hand, 3)
    engine_best, _ = timed(engine, 3)
    print(
        f"  {len(PAIRS):,} SMA pairs on {BARS:,} 1h bars; load average {os.getloadavg()[0]:.1f}", flush=True
    )
    report("hand-written numba loop (SMAs, crossings, kernel), backtests/s", len(PAIRS) / hand_best, "/s")
    rate = len(PAIRS) / engine_best
    print(
        f"{'run_batch end to end (indicators + signals + kernel)':<52} {rate:>10,.0f} /s"
        f"  ({hand_best / engine_best:.2f}x the hand-written loop)  [target >= 0.7x]",
        flush=True,
    )


def cold_command() -> None:
    """The kernels compile once per installation (the user's cache folder, keyed by versions): the first
    `mt backtest` ever compiles; the first one in a new workspace (another MT_HOME) loads them."""
    import tempfile

    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    args = [mt_executable(), "backtest", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h", "--json"]
    sim = [
        mt_executable(),
        "data",
        "sim",
        "BTC/USDT",
        "--timeframe",
        "1h",
        "--bars",
        str(BARS),
        "--seed",
        "3",
    ]

    def once() -> None:
        subprocess.run(args, check=True, capture_output=True, env=env)

    with tempfile.TemporaryDirectory(prefix="mt-bench-cache-") as cache:
        env["XDG_CACHE_HOME"] = cache  # an installation that never compiled
        with scratch_home() as home:
            env["MT_HOME"] = str(home)
            subprocess.run(sim, check=True, capture_output=True, env=env)
            first, _ = timed(once, 1)
        with scratch_home() as home:  # a new workspace of the same installation
            env["MT_HOME"] = str(home)
            subprocess.run(sim, check=True, capture_output=True, env=env)
            new_workspace, _ = timed(once, 1)
            best, median = timed(once, 5)
    report("`mt backtest sma_cross`, 1y 1h, first ever (compiles the kernels)", first, "s")
    report(
        "`mt backtest sma_cross`, 1y 1h, first in a new workspace",
        new_workspace,
        "s",
        target="< 3 s",
        baseline=first,
    )
    report("`mt backtest sma_cross`, 1y 1h, cached kernels (best)", best, "s", target="< 3 s")
    report("`mt backtest sma_cross`, 1y 1h, cached kernels (median)", median, "s")


def main() -> None:
    engines()
    sma_pairs()
    cold_command()


if __name__ == "__main__":
    main()
