"""Memory of a search's scorer: 2,000 random genomes scored by walk-forward on five years of 1h bars
(target: peak under 2 GB), each configuration in a fresh process (peak resident set size from the kernel).

Baseline, measured in the same run: the same scorer with an unbounded indicator cache (every distinct
indicator and lagged copy kept at full length, as before the bound). The scores of both are compared bit
for bit."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from benchmarks._util import report

BARS = 43_800
GENOMES = 2_000
BATCH = 250

CHILD = """
import hashlib, json, random, resource, sys, time
import mastertrade.engine.backtest
from mastertrade.engine.generator.evaluation import Problem, Scorer, CACHE_BYTES
from mastertrade.engine.generator.variation import Limits, seed_genome
from mastertrade.engine.market.sim import simulate

bars, count, batch, bounded = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
problem = Problem(simulate("BTC/USDT", "1h", bars, 7, end=1_735_689_600_000))
rng = random.Random(5)
genomes = [seed_genome(rng, symbol="BTC/USDT", timeframe="1h", limits=Limits()) for _ in range(count)]
scorer = Scorer(problem, threads=2, cache_bytes=CACHE_BYTES if bounded else None)
digest = hashlib.sha256()
started = time.perf_counter()
for first in range(0, count, batch):
    for score in scorer.score(genomes[first : first + batch]):
        digest.update(score.values.tobytes())
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"peak": peak, "seconds": seconds, "digest": digest.hexdigest(),
                  "evictions": scorer.cache._store.evictions, "bound": CACHE_BYTES}))
"""


def run(bounded: bool) -> dict[str, float | str]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(BARS), str(GENOMES), str(BATCH), "1" if bounded else "0"],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float | str] = json.loads(done.stdout.splitlines()[-1])
    return result


SYMBOLS = 50
SYMBOL_BARS = 8_760
SYMBOL_GENOMES = 150

NIGHTLY = """
import gc, json, random, resource, sys
import mastertrade.engine.backtest
from mastertrade.engine.generator.evaluation import Problem, Scorer
from mastertrade.engine.generator.release import release_series_memory
from mastertrade.engine.generator.variation import Limits, seed_genome
from mastertrade.engine.market.sim import simulate

symbols, bars, count, release = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
page = resource.getpagesize()
for index in range(symbols):
    symbol = f"S{index:02d}/USDT"
    problem = Problem(simulate(symbol, "1h", bars, index, end=1_735_689_600_000))
    rng = random.Random(index)
    genomes = [seed_genome(rng, symbol=symbol, timeframe="1h", limits=Limits()) for _ in range(count)]
    scorer = Scorer(problem, threads=2)
    scorer.score(genomes)
    del scorer, problem, genomes
    if release:  # what the product's universe loop does after each series
        release_series_memory()
    else:
        gc.collect()
    with open("/proc/self/statm") as statm:
        resident = int(statm.read().split()[1]) * page
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"symbol": symbol, "rss": resident, "peak": peak}), flush=True)
"""


def nightly_run(release: bool) -> list[dict[str, float]]:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            NIGHTLY,
            str(SYMBOLS),
            str(SYMBOL_BARS),
            str(SYMBOL_GENOMES),
            str(int(release)),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def nightly() -> None:
    """A nightly-like run over ``SYMBOLS`` series in one process: a scorer per series, dropped after it,
    then what the product's universe loop does between series (``release_series_memory``); the resident
    set after each series must stay flat (nothing kept from one series to the next). Baseline, in the same
    run: the same loop with a plain garbage collection between series instead."""
    mib = 2**20
    print(
        f"  {SYMBOLS} series of {SYMBOL_BARS:,} 1h bars, {SYMBOL_GENOMES} random genomes each",
        flush=True,
    )
    for release in (False, True):
        rows = nightly_run(release)
        what = "the product's release between series" if release else "baseline: gc.collect() between series"
        print(f"  {what}", flush=True)
        print("  resident MiB after each series: " + " ".join(f"{row['rss'] / mib:.0f}" for row in rows))
        print("  peak MiB after each series:     " + " ".join(f"{row['peak'] / mib:.0f}" for row in rows))
        first = sum(row["rss"] for row in rows[:10]) / 10 / mib
        last = sum(row["rss"] for row in rows[-10:]) / 10 / mib
        report("resident set, mean of the first 10 series", first, "MiB")
        target = "flat (within 10%)" if release else ""
        report("resident set, mean of the last 10 series", last, "MiB", target=target)
        print(
            f"  growth from the first 10 to the last 10 series: {(last / first - 1) * 100:+.1f}%", flush=True
        )


def main() -> None:
    nightly()
    started = time.perf_counter()
    baseline = run(bounded=False)
    bounded = run(bounded=True)
    gib = 2**30
    print(f"  {GENOMES:,} random genomes on {BARS:,} 1h bars, batches of {BATCH}", flush=True)
    report("baseline: unbounded indicator cache, peak memory", float(baseline["peak"]) / gib, "GiB")
    report(
        f"bounded cache ({float(bounded['bound']) / 2**20:,.0f} MiB of arrays), peak memory",
        float(bounded["peak"]) / gib,
        "GiB",
        target="< 2 GiB",
        baseline=float(baseline["peak"]) / gib,
    )
    report("baseline: unbounded, scoring time", float(baseline["seconds"]), "s")
    report(f"bounded ({bounded['evictions']} evictions), scoring time", float(bounded["seconds"]), "s")
    same = baseline["digest"] == bounded["digest"]
    print(f"  scores bit for bit equal: {same}", flush=True)
    print(f"  ({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
