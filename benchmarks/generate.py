"""Generation speed: `mt generate --count 500` on one year of simulated 1h candles for one symbol, end to
end in a fresh process (target < 30 s on a 2-core machine), with its evaluations per second and the split
of its time (indicators, evaluation, validation, storage, and breeding: making and validating genomes).

Baseline, measured in the same run: the naive way to score a candidate, one at a time on the reference
engine (backtesting.py) with its own indicator computations, on the same walk-forward windows (the
in-sample window, each out-of-sample window and the full series), for a sample of the stored strategies;
extrapolated to the number of candidates the search scored."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from typing import Any

import mastertrade.engine.backtest  # noqa: F401  (numba's cache folder, before numba loads)
from benchmarks._util import mt_executable, report, scratch_home

BARS = 8760
COUNT = 500
SAMPLE = 8


def run_mt(*args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [mt_executable(), *args], check=True, capture_output=True, text=True, env=os.environ.copy()
    )
    return time.perf_counter() - started, done.stdout


def naive_seconds_per_candidate(ids: list[str]) -> float:
    """Score stored strategies the naive way: reference engine, fresh indicators, every window."""
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database
    from mastertrade.engine.backtest.params import order_params
    from mastertrade.engine.backtest.reference import run_reference
    from mastertrade.engine.generator.evaluation import Problem
    from mastertrade.engine.generator.store import StrategyStore
    from mastertrade.engine.market.store import CandleStore, SeriesKey
    from mastertrade.engine.signals.evaluate import signals
    from mastertrade.engine.signals.indicators import IndicatorCache

    async def load() -> tuple[Any, list[Any]]:
        async with await Database.open(load_settings()) as db:
            frame = await CandleStore(db).read(SeriesKey("sim", "BTC/USDT", "1h"))
            store = StrategyStore(db)
            return frame, [(await store.get(strategy_id)).genome for strategy_id in ids]

    frame, genomes = asyncio.run(load())
    problem = Problem(frame)
    parts = [problem.in_sample, *(w.out_of_sample for w in problem.windows), slice(0, len(frame))]
    run_reference(frame, *signals(genomes[0], IndicatorCache(frame)), order_params(genomes[0]))  # imports
    started = time.perf_counter()
    for genome in genomes:
        entries, exits = signals(genome, IndicatorCache(frame))  # no cache shared between candidates
        for part in parts:
            run_reference(frame.iloc[part], entries[part], exits[part], order_params(genome))
    return (time.perf_counter() - started) / len(genomes)


def main() -> None:
    with scratch_home():
        run_mt("data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", str(BARS), "--seed", "7")
        warm, _ = run_mt(
            "generate", "--count", "20", "--population", "16", "--generations", "1", "--seed", "99"
        )
        report("warm-up `mt generate --count 20` (loads compiled kernels)", warm, "s")
        seconds, out = run_mt("generate", "--count", str(COUNT), "--seed", "1", "--json")
        doc = json.loads(out)
        counts, timings = doc["counts"], doc["timings"]
        print(
            f"  scored {counts['scored']:,} candidates ({counts['distinct']:,} distinct, "
            f"{counts['feasible']:,} feasible) in {counts['generations']} generations; "
            f"stored {counts['stored']} ({counts['passed']} passed the filter)",
            flush=True,
        )
        report("evaluations per second (search)", timings["evaluations_per_s"], "/s")
        for key, label in (
            ("indicators_s", "indicators (pandas-ta, cached)"),
            ("evaluation_s", "evaluation (signals + walk-forward kernel)"),
            ("breeding_s", "breeding (variation, grids, genome validation)"),
            ("validation_s", "validation (detail, deflated Sharpe, reference)"),
            ("storage_s", "storage (500 strategies, 1,500 transitions)"),
            ("total_s", "total inside the command"),
        ):
            report(f"  {label}", timings[key], "s")
        per_candidate = naive_seconds_per_candidate([row["id"] for row in doc["strategies"][:SAMPLE]])
        naive = per_candidate * counts["scored"]
        report(
            f"naive baseline: reference engine, one by one ({SAMPLE} sampled, extrapolated)",
            naive,
            "s",
        )
        report(
            f"`mt generate --count {COUNT}` on {BARS:,} 1h bars, end to end",
            seconds,
            "s",
            target="< 30 s",
            baseline=naive,
        )
