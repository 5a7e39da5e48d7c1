"""Many strategies backtested on one candle series, using every core.

The fast engine (``run_batch(..., engine="fast")``): one ``IndicatorCache`` is shared by all strategies,
so each (indicator, parameters) is computed once; strategies go in small chunks. The main thread
evaluates a chunk's signals (the genomes' in one compiled call, ``signals.program``; a plugin strategy's
by its own ``signals``) into one 2-D array and queues it for the kernel threads, which run the compiled
backtests and metrics of a whole chunk (``fast.simulate_rows``) without the GIL. There is one kernel
thread fewer than the cores, so the signals, the longest path, keep a core of their own; whenever the
main thread would wait for a result (signals done, or enough chunks queued) it runs a chunk no kernel
thread has started, so every core computes until the end. A ``prange`` kernel over all cores instead would
take the main thread's core from the signals while it runs, and its threads only finish together. A
process pool would not pay here: one backtest costs tens of microseconds, less than pickling its signals
to another process.

The reference engine (``engine="reference"``) costs about 70 ms a backtest in Python, so there a
process pool does pay: with enough strategies (``pool_min``) they are spread over one process per core,
each building its own indicator cache once.

Every result carries its own timing: ``signals_s`` (evaluating its signals) and ``engine_s`` (its
backtest: for the fast engine, the chunk's kernel wall time divided by the strategies in the chunk,
since they run together), and ``wall_time_s``, their sum.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mastertrade.engine.backtest.metrics import Calendar, metrics_dict
from mastertrade.engine.backtest.params import order_params
from mastertrade.engine.backtest.result import DEFAULT_CASH, DEFAULT_FEE, FRACTIONAL_UNIT, check_costs
from mastertrade.engine.backtest.runner import Engine, signal_rows, strategy_signals
from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    from mastertrade.engine.signals.genome import Genome
    from mastertrade.engine.signals.indicators import IndicatorCache

FloatArray = np.ndarray[Any, np.dtype[np.float64]]

DEFAULT_CHUNK = 64
_QUEUED = 4
"""Chunks waiting for or in the kernel threads, per thread, before the signals wait for them."""
DEFAULT_POOL_MIN = 64


def read_genomes_jsonl(path: Path) -> list[Genome]:
    """Every genome of a JSON-lines file (one genome object a line; blank lines are skipped).

    The whole file is validated first: the first bad line raises ``UserInputError`` (``InvalidGenome``)
    naming the file and line number, so a batch never starts on a file it cannot finish."""
    from mastertrade.engine.signals.genome import parse_genome_json

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserInputError(f"batch file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"cannot read batch file {str(path)!r}: {exc}") from None
    genomes: list[Genome] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            genomes.append(parse_genome_json(line, source=f"{path}:{number}"))
        except UserInputError:
            if not genomes:
                _not_json_lines(path, text)
            raise
    if not genomes:
        raise UserInputError(f"batch file {str(path)!r} holds no genomes")
    return genomes


def _not_json_lines(path: Path, text: str) -> None:
    """Say so when a batch file whose first line is no genome is one JSON document: a genome file
    pretty-printed over many lines (what `mt strategy show --json` writes) or an array of genomes. Each
    was refused for its first line alone ("invalid JSON at line 1 column 2", "must be an object"), which
    did not say that --batch reads one genome a line."""
    try:
        document = json.loads(text.removeprefix("\ufeff"))
    except ValueError:
        return
    lines = sum(1 for line in text.splitlines() if line.strip())
    if isinstance(document, list):
        what = "a JSON array" + (f" over {lines:,} lines" if lines > 1 else "")
        how = f"`jq -c '.[]' {path}` writes its items one a line"
    elif isinstance(document, dict) and lines > 1:
        what = f"one JSON document over {lines:,} lines"
        how = f"`mt backtest {path}` backtests a single genome file"
    else:
        return
    raise UserInputError(
        f"batch file {str(path)!r} holds {what}: --batch reads JSON lines, one genome a line ({how})"
    )


@dataclass(frozen=True)
class BatchResult:
    """The metrics of one strategy of a batch (``index``: its position in the input; ``open_trade``: a
    position still open after the last bar, left out of ``trades`` as in a single backtest)."""

    index: int
    name: str
    metrics: dict[str, Any]
    signals_s: float
    engine_s: float
    open_trade: bool

    def as_dict(self) -> dict[str, Any]:
        """What ``mt backtest --batch`` prints for it: the single backtest's figures (``strategy`` is
        the name, ``name`` kept for scripts written before it), then the timings."""
        return {
            "index": self.index,
            "name": self.name,
            "strategy": self.name,
            **self.metrics,
            "open_trade": self.open_trade,
            "signals_s": self.signals_s,
            "engine_s": self.engine_s,
            "wall_time_s": self.signals_s + self.engine_s,
        }


def run_batch(
    strategies: Sequence[Any],
    frame: pd.DataFrame,
    *,
    cash: float = DEFAULT_CASH,
    fee: float = DEFAULT_FEE,
    engine: Engine = "fast",
    window: slice | None = None,
    chunk: int = DEFAULT_CHUNK,
    threads: int | None = None,
    pool_min: int = DEFAULT_POOL_MIN,
    cache: IndicatorCache | None = None,
) -> Iterator[BatchResult]:
    """Backtest every strategy on ``frame``; results come in input order, chunk by chunk.

    ``window`` restricts the backtests to a range of bars (walk-forward), signals being computed on
    the whole frame. ``threads`` caps the kernel threads (default: numba's thread count, all cores).
    ``cache`` may be shared with other calls on the same frame.
    """
    check_costs(cash, fee)
    if len(frame) == 0:
        raise UserInputError("no candles to backtest")
    if chunk < 1:
        raise UserInputError(f"invalid chunk size {chunk}: must be >= 1")
    if engine == "reference":
        yield from _reference_batch(
            strategies, frame, cash=cash, fee=fee, window=window, pool_min=pool_min, cache=cache
        )
        return
    if engine != "fast":
        raise UserInputError(f"invalid engine {engine!r}: choose fast or reference")
    yield from _fast_batch(
        strategies, frame, cash=cash, fee=fee, window=window, chunk=chunk, threads=threads, cache=cache
    )


def _fast_batch(
    strategies: Sequence[Any],
    frame: pd.DataFrame,
    *,
    cash: float,
    fee: float,
    window: slice | None,
    chunk: int,
    threads: int | None,
    cache: IndicatorCache | None,
) -> Iterator[BatchResult]:
    import numba

    from mastertrade.engine.backtest.fast import OPEN_COLUMN, price_arrays, simulate_rows
    from mastertrade.engine.signals.indicators import IndicatorCache

    cache = cache if cache is not None else IndicatorCache(frame)
    part = window or slice(0, len(frame))
    bars = frame.iloc[part]
    if len(bars) == 0:
        raise UserInputError(f"window {part.start}:{part.stop} holds no bars")
    open_, high, low, close = price_arrays(bars)
    calendar = Calendar.from_ts(pd.DatetimeIndex(bars.index).as_unit("ms").asi8)
    workers = max(1, min(threads or numba.get_num_threads(), numba.get_num_threads()))

    def kernel(
        entries: np.ndarray[Any, Any], exits: np.ndarray[Any, Any], params: FloatArray
    ) -> tuple[FloatArray, float]:
        started = time.perf_counter()
        out = simulate_rows(
            open_, high, low, close, entries, exits, params[0], params[1], params[2], params[3],
            float(cash), float(fee), FRACTIONAL_UNIT, calendar.day_last, calendar.years,
        )  # fmt: skip
        return out, time.perf_counter() - started

    def finish(job: _Job) -> Iterator[BatchResult]:
        # The main thread waits for no kernel it could run itself: it takes chunks no thread started.
        while not job.future.done() and any(other.run_here(kernel) for other in pending):
            pass
        values, seconds = job.result()
        share = seconds / len(job.names)
        for j, name in enumerate(job.names):
            row = values[j]
            yield BatchResult(
                job.first + j,
                name,
                metrics_dict(row[:OPEN_COLUMN], calendar),
                job.signal_s[j],
                share,
                bool(row[OPEN_COLUMN]),
            )

    # a small batch still goes in at least two chunks a thread, so that every core gets some of it
    chunk = max(1, min(chunk, -(-len(strategies) // (2 * workers))))
    pending: deque[_Job] = deque()
    # While the main thread evaluates signals it keeps a core: the kernels get the others (one at least).
    pool = ThreadPoolExecutor(max_workers=max(1, workers - 1), thread_name_prefix="mt-backtest")
    try:
        for first in range(0, len(strategies), chunk):
            group = strategies[first : first + chunk]
            # the genomes' signals in one compiled call, a plugin's by its own (runner.signal_rows)
            signal_times: list[float] = []
            rows, exit_rows = signal_rows(group, cache, signal_times)
            entries = np.ascontiguousarray(rows[:, part])
            exits = np.ascontiguousarray(exit_rows[:, part])
            params = np.empty((4, len(group)))
            for j, strategy in enumerate(group):
                params[:, j] = order_params(strategy).kernel_args()
            names = [str(getattr(strategy, "name", "")) for strategy in group]
            arrays = (entries, exits, params)
            pending.append(_Job(pool.submit(kernel, *arrays), arrays, first, names, signal_times))
            # Results go out in input order as soon as they are ready; at most a few chunks wait
            # (their signals are held in memory), so a slow consumer or kernel stalls the signals.
            while pending and (pending[0].future.done() or len(pending) > _QUEUED * workers):
                yield from finish(pending.popleft())
        while pending:
            yield from finish(pending.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class _Job:
    """A chunk handed to the kernel threads: its future, its arrays, and where its results go."""

    future: Future[tuple[FloatArray, float]]
    arrays: tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], FloatArray]
    first: int
    names: list[str]
    signal_s: list[float]
    here: tuple[FloatArray, float] | None = None

    def run_here(self, kernel: Callable[..., tuple[FloatArray, float]]) -> bool:
        """Run the kernel in the calling thread if no kernel thread has started it (``False`` if one
        has, or it already ran here)."""
        if self.here is not None or not self.future.cancel():
            return False
        self.here = kernel(*self.arrays)
        return True

    def result(self) -> tuple[FloatArray, float]:
        return self.here if self.here is not None else self.future.result()


# --- reference engine: a process pool ---------------------------------------------------------------

# Each pool worker's candles and indicator cache, set once by the pool's initializer.
_worker: tuple[pd.DataFrame, IndicatorCache] | None = None


def _init_worker(frame: pd.DataFrame, features: Any) -> None:
    global _worker
    from mastertrade.engine.signals.indicators import IndicatorCache

    _worker = (frame, IndicatorCache(frame, features=features))


def _reference_one(
    strategy: Any, frame: pd.DataFrame, cache: IndicatorCache, cash: float, fee: float, window: slice | None
) -> tuple[dict[str, Any], float, float, bool]:
    """(metrics, signals_s, engine_s, open_trade) of one strategy through the reference engine."""
    from mastertrade.engine.backtest.reference import run_reference

    started = time.perf_counter()
    entries, exits = strategy_signals(strategy, cache)
    signals_s = time.perf_counter() - started
    part = window or slice(0, len(frame))
    started = time.perf_counter()
    result = run_reference(
        frame.iloc[part], entries[part], exits[part], order_params(strategy), cash=cash, fee=fee
    )
    return result.metrics(), signals_s, time.perf_counter() - started, result.open_trade


def _reference_in_worker(
    strategy: Any, cash: float, fee: float, window: slice | None
) -> tuple[dict[str, Any], float, float, bool]:
    assert _worker is not None, "the pool initializer did not run"
    return _reference_one(strategy, *_worker, cash, fee, window)


def _reference_batch(
    strategies: Sequence[Any],
    frame: pd.DataFrame,
    *,
    cash: float,
    fee: float,
    window: slice | None,
    pool_min: int,
    cache: IndicatorCache | None,
) -> Iterator[BatchResult]:
    cores = os.cpu_count() or 1
    names = [str(getattr(strategy, "name", "")) for strategy in strategies]
    features = cache.features if cache is not None else None
    if cores < 2 or len(strategies) < pool_min:
        from mastertrade.engine.signals.indicators import IndicatorCache

        cache = cache if cache is not None else IndicatorCache(frame)
        for index, strategy in enumerate(strategies):
            yield BatchResult(index, names[index], *_reference_one(strategy, frame, cache, cash, fee, window))
        return

    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # "spawn": the parent runs numba and executor threads, and fork() with threads may deadlock.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        cores, mp_context=context, initializer=_init_worker, initargs=(frame, features)
    ) as pool:
        jobs = [pool.submit(_reference_in_worker, strategy, cash, fee, window) for strategy in strategies]
        for index, job in enumerate(jobs):
            yield BatchResult(index, names[index], *job.result())
