"""Scoring genomes on one candle series: the problem every worker holds, and the scores it returns.

A :class:`Problem` is what a worker needs once (the candles, the walk-forward windows, cash and fee, and
the stored features its genomes may read);
it is plain data that pickles, so a process pool or a cluster can ship it to each worker once. A
:class:`Scorer` is a worker's warm state for one problem: the shared ``IndicatorCache`` and the arrays
the kernel reads. ``Scorer.score(genomes)`` computes every indicator the batch needs (timed as
"indicators"), evaluates the signals of the whole batch in one compiled call
(``signals.program.signals_many``), and hands the batch to the compiled kernel (:mod:`.kernel`), both on
``threads`` numba threads without the GIL. A genome's score never depends on the
batch it came in or the worker that scored it: the search relies on that for determinism.

A :class:`Score` holds the raw numbers: one row of ``backtest.metrics.KERNEL_KEYS`` values per window
(stitched out-of-sample, in-sample, full series, each fold's out-of-sample and in-sample window) and the
moments of the out-of-sample daily returns. :meth:`Problem.metrics` turns a row into the JSON metrics
``mt backtest --json`` prints.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mastertrade.engine.backtest.metrics import KERNEL_KEYS, Calendar, metrics_dict
from mastertrade.engine.backtest.params import OrderParams
from mastertrade.engine.backtest.result import FRACTIONAL_UNIT
from mastertrade.engine.backtest.walkforward import Window, split
from mastertrade.engine.generator import kernel as k
from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    from mastertrade.engine.signals.features import FeatureProvider
    from mastertrade.engine.signals.genome import Genome
    from mastertrade.engine.signals.indicators import IndicatorCache

FloatArray = np.ndarray[Any, np.dtype[np.float64]]

_DAY_MS = 86_400_000
CACHE_BYTES = 768 * 2**20
"""A scorer's indicator cache holds at most this many bytes of arrays: 2,000 random genomes on five years of
1h bars ask for far more distinct indicators and lags than fit in memory at full length."""
_KEY = {name: index for index, name in enumerate(KERNEL_KEYS)}
_SIGNATURE_ROWS = slice(k.ROW_OOS, k.ROW_IS + 1)


@dataclass(frozen=True)
class Problem:
    """The candles a search runs on and how they are split (see the module docstring).

    ``folds`` out-of-sample windows tile the end of the series (``walkforward.split`` with ``ratio``
    and ``anchored``); the in-sample window is every bar before the first of them."""

    frame: pd.DataFrame
    folds: int = 4
    ratio: float = 0.75
    anchored: bool = False
    cash: float = 10_000.0
    fee: float = 0.001
    features: FeatureProvider | None = None
    """The values of the feature terms the search may draw (``Limits.features``), aligned to any bars
    without lookahead (``collectors.provider.StoredFeatures``, as a plain backtest reads them)."""

    @cached_property
    def windows(self) -> list[Window]:
        return split(len(self.frame), folds=self.folds, ratio=self.ratio, anchored=self.anchored)

    @property
    def in_sample(self) -> slice:
        return slice(0, self.windows[0].out_of_sample.start)

    @property
    def out_of_sample(self) -> slice:
        return slice(self.windows[0].out_of_sample.start, self.windows[-1].out_of_sample.stop)

    @cached_property
    def ts(self) -> np.ndarray[Any, np.dtype[np.int64]]:
        # writable, whatever the index (see ``fast.price_arrays``: one kernel type for every frame)
        return np.require(pd.DatetimeIndex(self.frame.index).as_unit("ms").asi8, np.int64, ["C", "W"])

    def calendar(self, part: slice) -> Calendar:
        return Calendar.from_ts(self.ts[part])

    @cached_property
    def calendars(self) -> dict[str, Calendar]:
        found = {
            "out_of_sample": self.calendar(self.out_of_sample),
            "in_sample": self.calendar(self.in_sample),
            "full": self.calendar(slice(0, len(self.frame))),
        }
        for window in self.windows:
            found[f"oos{window.fold}"] = self.calendar(window.out_of_sample)
            found[f"is{window.fold}"] = self.calendar(window.in_sample)
        return found

    def check(self) -> None:
        """Reject a series too short to split: every window needs a few days of bars."""
        if self.windows[0].out_of_sample.start < 2:
            raise UserInputError(f"{len(self.frame)} bars are too few for {self.folds} walk-forward windows")
        for window in self.windows:
            span = self.ts[window.out_of_sample.stop - 1] - self.ts[window.out_of_sample.start]
            if span < 2 * _DAY_MS:
                raise UserInputError(
                    f"{len(self.frame)} bars are too few for {self.folds} walk-forward windows: each"
                    " out-of-sample window needs at least two days of bars for a Sharpe ratio"
                )

    def describe(self) -> dict[str, Any]:
        return {
            "bars": len(self.frame),
            "start": self.calendars["full"].start,
            "end": self.calendars["full"].end,
            "in_sample": {"start": self.calendars["in_sample"].start, "end": self.calendars["in_sample"].end},
            "out_of_sample": {
                "start": self.calendars["out_of_sample"].start,
                "end": self.calendars["out_of_sample"].end,
            },
            "windows": [window.as_dict() for window in self.windows],
            "anchored": self.anchored,
        }


@dataclass(frozen=True)
class Score:
    """The raw numbers of one genome (rows as in :mod:`.kernel`); ``error`` when it could not be scored."""

    values: FloatArray
    moments: FloatArray
    error: str | None = None

    def value(self, key: str, row: int = k.ROW_OOS) -> float | None:
        number = float(self.values[row, _KEY[key]])
        return None if math.isnan(number) or math.isinf(number) else number

    def values_of(self, keys: tuple[str, ...], row: int = k.ROW_OOS) -> list[float | None]:
        """``[self.value(key, row) for key in keys]``, the row read once (the search reads four values
        of every candidate)."""
        numbers = self.values[row].tolist()
        return [_finite(numbers[_KEY[key]]) for key in keys]

    @property
    def oos_sharpe(self) -> float | None:
        return self.value("sharpe")

    @property
    def daily_sharpe(self) -> float | None:
        """The per-day (not annualised) Sharpe ratio of the stitched out-of-sample curve."""
        mean, std = float(self.moments[1]), float(self.moments[2])
        if not (math.isfinite(mean) and math.isfinite(std)) or std <= 0:
            return None
        return mean / std

    @property
    def signature(self) -> bytes:
        """What the strategy did, to the last bit: two genomes with equal signatures traded identically
        in every window scored (a behavioural duplicate). The bytes of the stitched out-of-sample and the
        in-sample rows, a NaN read as -1 and -0.0 as 0.0 (so equal exactly when the rows compare equal);
        a quarter of the cost of a tuple of floats, which the search paid for every candidate (and
        the rows copied and their NaNs set in place: 40% less than a ``np.where``, measured 2026-12-05)."""
        rows = self.values[_SIGNATURE_ROWS] + 0.0
        rows[rows != rows] = -1.0
        return rows.tobytes()


def _finite(number: float) -> float | None:
    return None if math.isnan(number) or math.isinf(number) else number


@dataclass
class Timings:
    """Seconds spent, summed over calls."""

    indicators_s: float = 0.0
    signals_s: float = 0.0
    kernel_s: float = 0.0
    scored: int = 0

    def add(self, other: Timings) -> None:
        self.indicators_s += other.indicators_s
        self.signals_s += other.signals_s
        self.kernel_s += other.kernel_s
        self.scored += other.scored


def failed_score(problem: Problem, error: str) -> Score:
    return Score(np.full((k.rows(problem.folds), k.METRICS), np.nan), np.full(k.MOMENTS, np.nan), error)


@dataclass
class Scorer:
    """A worker's warm state for one problem (see the module docstring)."""

    problem: Problem
    threads: int = 1
    timings: Timings = field(default_factory=Timings)
    cache_bytes: int | None = CACHE_BYTES
    """Bound of the indicator cache's memory (least recently used evicted, recomputed to the same bits)."""

    def __post_init__(self) -> None:
        import mastertrade.engine.backtest  # noqa: F401  (numba's cache folder first)
        from mastertrade.engine.backtest.fast import price_arrays
        from mastertrade.engine.signals.indicators import IndicatorCache

        problem = self.problem
        problem.check()
        self.cache: IndicatorCache = IndicatorCache(
            problem.frame, max_bytes=self.cache_bytes, features=problem.features
        )
        self.prices = price_arrays(problem.frame)
        self.day = np.ascontiguousarray(problem.ts // _DAY_MS, dtype=np.int64)
        windows = problem.windows
        self.is_bounds = np.array([0, windows[0].out_of_sample.start], dtype=np.int64)
        self.oos_bounds = np.array(
            [[w.out_of_sample.start, w.out_of_sample.stop] for w in windows], dtype=np.int64
        )
        self.fold_is_bounds = np.array(
            [[w.in_sample.start, w.in_sample.stop] for w in windows], dtype=np.int64
        )

    def warm(self, genomes: Sequence[Genome]) -> None:
        """Compute every indicator the genomes use that the cache does not hold yet, on ``threads``
        threads (the indicator kernels release the GIL; the cache stores them in the same order
        whatever the thread count, so no score depends on it).

        One thread was tried on 2026-12-05: scoring a recorded search's batches alone it looked 10-20%
        cheaper at one year, but in ``mt generate`` (two interleaved pairs with the two-thread code, quiet
        machine) the 5y search's indicators took 0.250-0.259 s against 0.185-0.188 s and the search
        0.76 s against 0.68-0.69 s, and the 1y search gained nothing (0.415-0.420 s against
        0.380-0.422 s); so two threads stay."""
        from mastertrade.engine.signals.genome import IndicatorTerm, terms

        started = time.perf_counter()
        requests = [
            (term.ind, term.params)
            for genome in genomes
            for term in terms(genome)
            if isinstance(term, IndicatorTerm)
        ]
        try:
            self.cache.warm(requests, threads=max(1, self.threads))
        finally:
            self.timings.indicators_s += time.perf_counter() - started

    def score(self, genomes: Sequence[Genome], *, detail: bool = False) -> list[Score]:
        """The scores of ``genomes``, in order."""
        from mastertrade.engine.signals.program import signals_many

        if not genomes:
            return []
        try:
            self.warm(genomes)
        except Exception:  # noqa: S110  (the failing genome is named below, one by one)
            pass
        started = time.perf_counter()
        # a genome that cannot be evaluated is scored as failed, not fatal
        entries, exits, errors = signals_many(genomes, self.cache, threads=max(1, self.threads))
        params = np.zeros((4, len(genomes)))
        params[3] = 1.0
        for index, genome in enumerate(genomes):
            if index not in errors:
                try:
                    params[:, index] = OrderParams(
                        genome.stop_loss, genome.take_profit, genome.trailing_stop, genome.size
                    ).kernel_args()
                except Exception as exc:
                    errors[index] = f"{type(exc).__name__}: {exc}"
        self.timings.signals_s += time.perf_counter() - started
        started = time.perf_counter()
        values, moments = self._kernel(entries, exits, params, detail)
        self.timings.kernel_s += time.perf_counter() - started
        self.timings.scored += len(genomes)
        return [
            failed_score(self.problem, errors[index])
            if index in errors
            else Score(values[index], moments[index])
            for index in range(len(genomes))
        ]

    def load_kernels(self) -> None:
        """Load the compiled kernels scoring calls, with the argument types it passes them, so the first
        batch does not wait for them. numba's first call in a process sets up its compiler (about 0.3 s
        of Python, most of it imports) and each kernel then loads from the disk cache (milliseconds, much
        of it in LLVM, without the GIL). :class:`~.executor.ThreadExecutor` runs this on a thread while
        the search breeds its first generation. Results do not depend on it: the same kernels load on
        the first call otherwise."""
        from mastertrade.engine.signals.kernels import load
        from mastertrade.engine.signals.program import load as load_programs

        load()
        load_programs()
        n = len(self.problem.frame)
        none = np.zeros((1, n), dtype=np.bool_)
        params = np.zeros((4, 1))
        params[3] = 1.0
        self._kernel(none, none, params, False)

    def _kernel(
        self, entries: np.ndarray[Any, Any], exits: np.ndarray[Any, Any], params: FloatArray, detail: bool
    ) -> tuple[FloatArray, FloatArray]:
        open_, high, low, close = self.prices
        values, moments = k.score_many(
            open_, high, low, close, entries, exits, params[0], params[1], params[2], params[3],
            float(self.problem.cash), float(self.problem.fee), FRACTIONAL_UNIT, self.day, self.problem.ts,
            self.is_bounds, self.oos_bounds, self.fold_is_bounds, detail, max(1, self.threads),
        )  # fmt: skip
        return values, moments


def metrics_of(problem: Problem, score: Score, row: int) -> dict[str, Any] | None:
    """The JSON metrics of one row of a score (``None`` when that row was not computed)."""
    values = score.values[row]
    if np.all(np.isnan(values)):
        return None
    folds = problem.folds
    if row == k.ROW_OOS:
        calendar = problem.calendars["out_of_sample"]
    elif row == k.ROW_IS:
        calendar = problem.calendars["in_sample"]
    elif row == k.ROW_FULL:
        calendar = problem.calendars["full"]
    elif row < k.FOLD_ROWS + folds:
        calendar = problem.calendars[f"oos{row - k.FOLD_ROWS}"]
    else:
        calendar = problem.calendars[f"is{row - k.FOLD_ROWS - folds}"]
    return metrics_dict(values, calendar)
