"""Signal evaluation: one random genome's entry and exit signals on one year of 1h bars with the
indicators already cached, against a naive pandas evaluation of the same genomes (Series comparisons
and ``shift`` for crossings, as one would write it by hand) on the same cached values."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from benchmarks._util import report, timed
from mastertrade.engine.market.sim import simulate
from mastertrade.engine.signals.builtins import BUILTINS
from mastertrade.engine.signals.evaluate import signals, term_values
from mastertrade.engine.signals.genome import (
    AllOf,
    AnyOf,
    ConstTerm,
    CrossesAbove,
    CrossesBelow,
    Genome,
    Greater,
    Less,
    Rule,
    conditions,
    rules,
    terms,
)
from mastertrade.engine.signals.indicators import IndicatorCache
from mastertrade.engine.signals.random_genome import random_genome

GENOMES = 500


def naive_rule(rule: Rule, series: dict[Any, pd.Series]) -> pd.Series:
    if isinstance(rule, AllOf | AnyOf):
        result = naive_rule(rule.children[0], series)
        for child in rule.children[1:]:
            other = naive_rule(child, series)
            result = (result & other) if isinstance(rule, AllOf) else (result | other)
        return result
    a, b = (term.const if isinstance(term, ConstTerm) else series[term.key] for term in rule.operands)
    if isinstance(rule, Greater):
        return a > b
    if isinstance(rule, Less):
        return a < b
    a_prev = a.shift(1) if isinstance(a, pd.Series) else a
    b_prev = b.shift(1) if isinstance(b, pd.Series) else b
    if isinstance(rule, CrossesAbove):
        return (a > b) & (a_prev <= b_prev)
    assert isinstance(rule, CrossesBelow)
    return (a < b) & (a_prev >= b_prev)


def naive_signals(genome: Genome, series: dict[Any, pd.Series]) -> tuple[pd.Series, pd.Series]:
    entries = naive_rule(genome.entry, series)
    exits = naive_rule(genome.exit, series) if genome.exit is not None else entries & False
    return entries, exits


def main() -> None:
    frame = simulate("BTC/USDT", "1h", 8760, 1)
    genomes = [random_genome(seed) for seed in range(GENOMES)]
    cache = IndicatorCache(frame)

    start = time.perf_counter()
    for genome in genomes:
        signals(genome, cache)
    cold = time.perf_counter() - start
    count = sum(1 for g in genomes for r in rules(g) for _ in conditions(r))
    print(
        f"{GENOMES} random genomes, {count / GENOMES:.1f} conditions each on average, "
        f"{cache.computations} distinct indicators, {len(frame):,} bars",
        flush=True,
    )
    report("first pass: computing their indicators, per genome", cold / GENOMES, "s")

    # the baseline gets the same cached values, as pandas Series
    series = {
        term.key: pd.Series(term_values(term, cache), index=frame.index)
        for genome in genomes
        for term in terms(genome)
        if not isinstance(term, ConstTerm)
    }
    for genome in genomes:  # check both say the same thing before timing them
        ours, theirs = signals(genome, cache), naive_signals(genome, series)
        assert all(np.array_equal(a, b.to_numpy()) for a, b in zip(ours, theirs, strict=True))

    best_naive, median_naive = timed(lambda: [naive_signals(g, series) for g in genomes], repeat=3)
    best, median = timed(lambda: [signals(g, cache) for g in genomes], repeat=5)
    report("naive pandas evaluation per genome (baseline, best)", best_naive / GENOMES, "s")
    report(
        "signals(genome, cache) per random genome, warm cache (best)",
        best / GENOMES,
        "s",
        baseline=best_naive / GENOMES,
    )
    report("signals(genome, cache) per random genome (median run)", median / GENOMES, "s")
    sma_cross = BUILTINS["sma_cross"]
    one, _ = timed(lambda: [signals(sma_cross, cache) for _ in range(1000)], repeat=5)
    report("signals(sma_cross, cache), warm cache (best)", one / 1000, "s")
    print(
        f"=> about {GENOMES / best:,.0f} random genomes' signals per second per core "
        f"(the fast engine's target is 10,000 backtests/s, signals included)",
        flush=True,
    )


if __name__ == "__main__":
    main()
