"""Generation speed: `mt generate --count 500` on one year and on five years of simulated 1h candles for one
symbol, end to end in a fresh process (headline: wall time and evaluations per second of wall time; target
< 2.5 s at one year on an idle 2-core machine), with the search's own evaluations per second, the cores
it kept busy (target >= 1.6) and the split of its time.

Baseline, measured in the same run on the same bars: a plain DEAP + numba genetic search over SMA-pair
crossover strategies written here (a compiled SMA and long-only backtest per individual, deap's
tournament, crossover and mutation, no database, no validation, no storage). Its evaluations per second
are what a minimal GA reaches on this machine; the target is at least half of them."""

from __future__ import annotations

import gc
import json
import os
import random
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

import mastertrade.engine.backtest  # noqa: F401  (numba's cache folder, before numba loads)
from benchmarks._util import mt_executable, report, scratch_home

YEAR = 8760
COUNT = 500
BASELINE_POPULATION = 128
BASELINE_GENERATIONS = 12


LAST_CPU = [0.0]
"""CPU seconds (user + system, every thread) of the last command ``run_mt`` ran."""


def run_mt(*args: str) -> tuple[float, str]:
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [mt_executable(), *args], check=True, capture_output=True, text=True, env=os.environ.copy()
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU[0] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return time.perf_counter() - started, done.stdout


def _kernels() -> Any:
    import numba

    @numba.njit(cache=False, nogil=True)
    def sma(close: Any, length: int) -> Any:
        out = np.full(close.shape[0], np.nan)
        total = 0.0
        for i in range(close.shape[0]):
            total += close[i]
            if i >= length:
                total -= close[i - length]
            if i >= length - 1:
                out[i] = total / length
        return out

    @numba.njit(cache=False, nogil=True)
    def sharpe_of_pair(open_: Any, close: Any, fast: int, slow: int, fee: float) -> float:
        """SMA(fast) above SMA(slow) at a close: long from the next open; a per-bar Sharpe ratio."""
        a = sma(close, fast)
        b = sma(close, slow)
        n = close.shape[0]
        cash = 1.0
        units = 0.0
        previous = 1.0
        total = 0.0
        squares = 0.0
        for t in range(1, n):
            signal = a[t - 1] > b[t - 1]
            if signal and units == 0.0:
                units = cash * (1.0 - fee) / open_[t]
                cash = 0.0
            elif not signal and units > 0.0:
                cash = units * open_[t] * (1.0 - fee)
                units = 0.0
            equity = cash + units * close[t]
            change = equity / previous - 1.0
            previous = equity
            total += change
            squares += change * change
        mean = total / (n - 1)
        variance = squares / (n - 1) - mean * mean
        return mean / np.sqrt(variance) if variance > 0 else 0.0

    return sharpe_of_pair


def deap_baseline(frame: Any) -> tuple[float, float]:
    """Evaluations per second of wall time and per CPU second of a plain DEAP + numba SMA-pair GA on
    ``frame``'s candles."""
    from deap import base, creator, tools

    sharpe_of_pair = _kernels()
    open_ = np.ascontiguousarray(frame["open"].to_numpy(dtype=np.float64))
    close = np.ascontiguousarray(frame["close"].to_numpy(dtype=np.float64))
    sharpe_of_pair(open_, close, 5, 20, 0.001)  # compile
    if not hasattr(creator, "BenchFitness"):
        creator.create("BenchFitness", base.Fitness, weights=(1.0,))
        creator.create("BenchPair", list, fitness=creator.BenchFitness)
    rng = random.Random(1)
    random.seed(1)  # deap's operators draw from the global generator

    def evaluate(pair: list[int]) -> tuple[float]:
        fast, slow = min(pair), max(pair)
        return (float(sharpe_of_pair(open_, close, fast, max(slow, fast + 1), 0.001)),)

    toolbox = base.Toolbox()
    toolbox.register("individual", lambda: creator.BenchPair([rng.randint(2, 100), rng.randint(10, 300)]))
    toolbox.register("evaluate", evaluate)
    toolbox.register("mate", tools.cxUniform, indpb=0.5)
    toolbox.register("mutate", tools.mutUniformInt, low=2, up=300, indpb=0.5)
    toolbox.register("select", tools.selTournament, tournsize=2)
    started, cpu_started = time.perf_counter(), time.process_time()
    population = [toolbox.individual() for _ in range(BASELINE_POPULATION)]
    evaluations = 0
    for individual in population:
        individual.fitness.values = toolbox.evaluate(individual)
        evaluations += 1
    for _ in range(BASELINE_GENERATIONS):
        offspring = [toolbox.clone(ind) for ind in toolbox.select(population, len(population))]
        for first, second in zip(offspring[::2], offspring[1::2], strict=True):
            if random.random() < 0.5:
                toolbox.mate(first, second)
                del first.fitness.values, second.fitness.values
        for individual in offspring:
            if random.random() < 0.9:
                toolbox.mutate(individual)
                del individual.fitness.values
        for individual in offspring:
            if not individual.fitness.valid:
                individual.fitness.values = toolbox.evaluate(individual)
                evaluations += 1
        population = offspring
    return evaluations / (time.perf_counter() - started), evaluations / (time.process_time() - cpu_started)


def ceiling(frame: Any) -> tuple[float, float, float]:
    """Evaluations per CPU second of the search's two halves, each measured alone on one core, in this
    process, on the search window ``mt generate`` searches with the default settings: **scoring** (the
    candidates a seed-1 search scores, rescored from a cold indicator cache by one scorer on one numba
    thread: indicators, signals and the walk-forward kernel) and **breeding** (the same search run
    again with those scores handed back, so what is left is variation, genome building, fingerprints
    and NSGA-II selection). Together they bound what the search can reach on two cores: even with
    both kept busy all the time, its rate is at most ``2 / (1 / scoring + 1 / breeding)``; with
    breeding free, twice the scoring rate. CPU seconds of the thread doing the work, not wall time, so
    the figures hold on a busy machine; and not the process's CPU time, which counts numba's idle
    OpenMP workers spinning after each parallel region (a third more on the scoring side, measured
    2026-12-05) as if they worked.

    The third figure is the scoring's **compiled** share, in CPU seconds a candidate: the walk-forward
    kernel and the run of the signal programs, the two calls that release the GIL for all of their
    time. The rest of scoring (the indicators' Python wrappers around their kernels, compiling the
    signal programs, the scores) and all of breeding hold it: the bound on any arrangement of threads
    in one process."""
    from mastertrade.config import GeneratorSettings
    from mastertrade.engine.generator.collector import CollectorPause
    from mastertrade.engine.generator.evaluation import Problem, Score, Scorer
    from mastertrade.engine.generator.executor import ThreadExecutor
    from mastertrade.engine.generator.holdout import holdout_start
    from mastertrade.engine.generator.search import Search, SearchConfig

    settings = GeneratorSettings()
    problem = Problem(
        frame.iloc[: holdout_start(len(frame), settings.holdout_fraction)],
        folds=settings.walk_forward_windows,
        ratio=settings.in_sample_ratio,
        anchored=settings.anchored,
    )
    config = SearchConfig(symbol="BTC/USDT", timeframe="1h", seed=1, count=COUNT)
    batches: list[tuple[list[Any], list[Score]]] = []

    class Recording(ThreadExecutor):
        def map(self, genomes: Any, *, detail: bool = False) -> list[Score]:
            scores = super().map(genomes, detail=detail)
            batches.append((list(genomes), scores))
            return scores

    recording = Recording(problem, 1)
    Search(config, recording).run()
    recording.close()
    scorer = Scorer(problem, threads=1)
    scorer.load_kernels()
    gc.collect()  # not the recorded search's garbage: a full collection here cost 0.1 s (2026-12-05)
    with CollectorPause() as collector, compiled_time() as compiled:  # the collector as the search runs it
        started = time.thread_time()
        for genomes, _ in batches:
            scorer.score(genomes)  # one thread: indicators, signals and the kernel all run on this one
            collector.generation_done()
        scoring_s = time.thread_time() - started
    scored = sum(len(genomes) for genomes, _ in batches)
    scoring = scored / scoring_s

    class Replaying(ThreadExecutor):
        def __init__(self) -> None:
            self.workers, self.at = 1, 0

        def map(self, genomes: Any, *, detail: bool = False) -> list[Score]:
            known, scores = batches[self.at]
            assert [g.name for g in genomes] == [g.name for g in known], "the replayed search differs"
            self.at += 1
            return scores

    gc.collect()
    started = time.thread_time()
    Search(config, Replaying()).run()  # breeding and selection on this thread, the replay on another
    breeding = scored / (time.thread_time() - started)
    return scoring, breeding, compiled[0] / scored


@contextmanager
def compiled_time() -> Iterator[list[float]]:
    """Thread CPU seconds spent in the scorer's two calls that run without the GIL (the walk-forward
    kernel, the signal programs' run), summed into the list's one element while the block runs. The
    calls are wrapped here, for this measurement only, and put back after it."""
    from mastertrade.engine.generator.evaluation import Scorer
    from mastertrade.engine.signals.program import Batch

    spent = [0.0]
    originals = Scorer._kernel, Batch.run

    def timed(call: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return call(*args, **kwargs)
            finally:
                spent[0] += time.thread_time() - started

        return wrapper

    Scorer._kernel, Batch.run = timed(originals[0]), timed(originals[1])  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        Scorer._kernel, Batch.run = originals  # type: ignore[method-assign]


def one_length(bars: int, label: str) -> None:
    from mastertrade.engine.market.sim import simulate

    os.environ["MT_GENERATOR__LOOKBACK_BARS"] = str(bars)  # search all of it
    with scratch_home():
        run_mt("data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", str(bars), "--seed", "7")
        run_mt("generate", "--count", "20", "--population", "16", "--generations", "1", "--seed", "99")
        seconds, out = run_mt("generate", "--count", str(COUNT), "--seed", "1", "--json")
        cpu = LAST_CPU[0]
        # the same bars the command searched, in this process, for the baseline
        frame = simulate("BTC/USDT", "1h", bars, 7)
    baseline, baseline_cpu = deap_baseline(frame)
    scoring, breeding, compiled_s = ceiling(frame)
    doc = json.loads(out)
    counts, timings = doc["counts"], doc["timings"]
    print(
        f"  [{label}] scored {counts['scored']:,} candidates ({counts['distinct']:,} distinct,"
        f" {counts['feasible']:,} feasible) in {counts['generations']} generations; stored"
        f" {counts['stored']} ({counts['passed']} passed the filter); load average"
        f" {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    report(f"[{label}] baseline: DEAP + numba SMA-pair GA, evaluations/s", baseline, "/s")
    end_to_end = counts["scored"] / seconds
    print(
        f"{f'[{label}] mt generate, evaluations/s of wall time':<52} {end_to_end:>10,.0f} /s"
        f"  ({end_to_end / baseline:.2f}x the baseline)  [target >= 0.5x]",
        flush=True,
    )
    per_cpu = counts["scored"] / cpu
    print(
        f"{f'[{label}] evaluations per CPU second: mt generate (all of it)':<52} {per_cpu:>10,.0f} /s"
        f"  ({per_cpu / baseline_cpu:.2f}x the baseline's {baseline_cpu:,.0f}: the fair ratio under load)",
        flush=True,
    )
    search = timings["evaluations_per_s"]
    print(
        f"{f'[{label}] mt generate, evaluations/s of the search':<52} {search:>10,.0f} /s"
        f"  ({search / baseline:.2f}x the baseline)",
        flush=True,
    )
    both = 2.0 / (1.0 / scoring + 1.0 / breeding)
    for name, rate in (
        ("scoring alone, per CPU second", scoring),
        ("breeding + selection alone, per CPU second", breeding),
        ("ceiling on 2 cores, both busy all the time", both),
        ("ceiling on 2 cores with breeding free", 2.0 * scoring),
    ):
        print(
            f"{f'[{label}]   {name}':<52} {rate:>10,.0f} /s  ({rate / baseline_cpu:.2f}x the baseline's"
            " per CPU second)",
            flush=True,
        )
    held_s = 1.0 / breeding + 1.0 / scoring - compiled_s  # CPU a candidate with the GIL held
    held = 1.0 / held_s
    print(
        f"{f'[{label}]   ceiling on threads of one process (GIL held)':<52} {held:>10,.0f} /s"
        f"  ({held / baseline_cpu:.2f}x the baseline's per CPU second: breeding"
        f" {1e6 / breeding:.0f} us + scoring {1e6 / scoring:.0f} us a candidate, of which"
        f" {1e6 * compiled_s:.0f} us compiled without the GIL)",
        flush=True,
    )
    report(
        f"[{label}] `mt generate --count {COUNT}`, end to end",
        seconds,
        "s",
        target="< 2.5 s (1y, idle machine)" if bars == YEAR else "",
    )
    if "search_cores" in timings:
        report(f"[{label}]   cores busy during the search", timings["search_cores"], "", target=">= 1.6")
    for key, name in (
        ("search_s", "search"),
        ("breeding_s", "  breeding (variation, genome validation)"),
        ("indicators_s", "  indicators"),
        ("evaluation_s", "  evaluation (signals + walk-forward kernel)"),
        ("validation_s", "validation (detail, hold-out, PBO, reference)"),
        ("holdout_s", "  hold-out scoring"),
        ("pbo_s", "  PBO"),
        ("storage_s", "storage"),
        ("total_s", "total inside the command"),
    ):
        report(f"[{label}]   {name}", timings[key], "s")
    print(f"  [{label}] start-up and imports: {seconds - timings['total_s']:.2f} s", flush=True)
    if "startup_s" in timings:  # measured inside the command: the rest is the interpreter, exit and output
        print(
            f"  [{label}]   of which the command's start-up (imports, settings, database):"
            f" {timings['startup_s']:.2f} s; interpreter, summary and exit:"
            f" {seconds - timings['total_s'] - timings['startup_s']:.2f} s",
            flush=True,
        )


def main() -> None:
    one_length(YEAR, "1y")
    one_length(5 * YEAR, "5y")
