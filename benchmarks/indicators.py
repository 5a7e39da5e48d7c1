"""Indicators: every distinct indicator of 1,664 random genomes on one year of 1h bars (what a
search of that size could ask for), computed through pandas-ta as the catalogue did before its
kernels (the baseline, same run, same bars) and through the cache's compiled kernels on one and on
two threads; and what loading the kernels from numba's cache costs a fresh process."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import mastertrade.engine.backtest  # noqa: F401  (numba's cache folder, before numba loads)
from benchmarks._util import report

YEAR = 8760
GENOMES = 1664

_LOADS = """
import time
import numpy as np
import mastertrade.engine.backtest  # noqa: F401
from mastertrade.engine.signals import kernels
x = np.cumsum(np.ones(256)); x.flags.writeable = False
calls = {
    "rolling_mean": lambda: kernels.rolling_mean(x, 5),
    "mean_deviation": lambda: kernels.mean_deviation(x, x, 5),
    "rolling_deviation": lambda: kernels.rolling_deviation(x, 5),
    "rolling_extreme": lambda: kernels.rolling_extreme(x, 5, True),
    "ewm_mean": lambda: kernels.ewm_mean(x, 4, 1.0, 2.0),
}
for name, call in calls.items():
    started = time.perf_counter()
    call()
    print(name, time.perf_counter() - started)
"""


def requests() -> list[tuple[str, Any]]:
    from mastertrade.engine.signals.genome import IndicatorTerm, terms
    from mastertrade.engine.signals.random_genome import random_genome

    found: dict[tuple[str, Any], None] = {}
    for seed in range(GENOMES):
        for term in terms(random_genome(seed)):
            if isinstance(term, IndicatorTerm):
                found[(term.ind, term.params)] = None
    return list(found)


def main() -> None:
    from mastertrade.engine.market.sim import simulate
    from mastertrade.engine.signals.indicators import _COMPUTE, INDICATORS, IndicatorCache, precompile
    from mastertrade.engine.signals.ta_reference import PANDAS_TA

    frame = simulate("BTC/USDT", "1h", YEAR, 7)
    wanted = requests()
    precompile()  # compiled (or loaded) before timing: both paths
    baseline_cache = IndicatorCache(frame)
    started = time.perf_counter()
    for name, params in wanted:
        compute = PANDAS_TA.get(name, _COMPUTE[name])
        baseline_cache._finish(INDICATORS[name], params, compute(baseline_cache.frame, dict(params)), name)
    baseline = time.perf_counter() - started
    print(f"  {len(wanted):,} distinct indicators of {GENOMES:,} random genomes on {YEAR:,} bars", flush=True)
    report("pandas-ta (the catalogue before its kernels)", baseline, "s")
    for threads in (1, 2):
        cache = IndicatorCache(frame)
        started = time.perf_counter()
        cache.warm(wanted, threads=threads)
        report(f"compiled kernels, cache.warm on {threads} thread(s)", time.perf_counter() - started, "s",
               baseline=baseline)  # fmt: skip
    done = subprocess.run([sys.executable, "-c", _LOADS], check=True, capture_output=True, text=True)
    loads = [(line.split()[0], float(line.split()[1])) for line in done.stdout.splitlines()]
    report(f"fresh process: first kernel ({loads[0][0]}, with numba's start-up)", loads[0][1] * 1000, "ms")
    for name, seconds in loads[1:]:
        report(f"fresh process: load {name} from numba's cache", seconds * 1000, "ms")
