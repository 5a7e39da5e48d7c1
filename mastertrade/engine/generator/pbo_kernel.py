"""The compiled core of CSCV (:mod:`.pbo`): every combination's in-sample best and its out-of-sample rank.

Two facts make it cheap without changing a bit of the result:

- with ``S`` blocks cut in halves, the complement of the ``c``-th half (``itertools.combinations`` order)
  is the ``(C - 1 - c)``-th, so every half is the in-sample set of one combination and the out-of-sample
  set of its partner: each half's performance is computed once and serves both (the plain formulation
  computes ``2 C`` of them);
- a half's per-trial sums are a left fold over its blocks in ascending order, and consecutive halves in
  that order share a prefix of blocks: a stack of partial sums per depth recomputes only from the first
  block that changed. The additions happen in the same order as the plain fold, so the sums, the
  performances and the ranks are the same bits (a test holds them equal).

The loops over trials are plain element-wise loops that LLVM vectorises. Serial on purpose: with a few
hundred trials it takes tens of milliseconds, less than loading a parallel kernel from the cache.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import numpy as np

from mastertrade.engine.backtest._numba import kernel


def _vectorised[F: Callable[..., Any]](function: F) -> F:
    """``kernel()`` with numpy's error model: a division by zero gives inf/NaN instead of raising, so a
    loop of divisions has no hidden branch and vectorises (the divisions here are guarded anyway)."""
    import numba

    return cast(F, numba.njit(cache=True, nogil=True, error_model="numpy")(function))


FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]


@kernel()
def _advance(
    sums: FloatArray,
    squares: FloatArray,
    count: FloatArray,
    half: IntArray,
    previous: IntArray,
    fresh: bool,
    totals: FloatArray,
    squared: FloatArray,
    rows: FloatArray,
) -> None:
    """Bring the stack of partial sums (one row per depth) from the half ``previous`` to ``half``."""
    depth = half.shape[0]
    first = 0
    if not fresh:
        while first < depth and half[first] == previous[first]:
            first += 1
    trials = sums.shape[1]
    for d in range(first, depth):
        block = half[d]
        if d == 0:
            rows[0] = count[block]
            for t in range(trials):
                totals[0, t] = sums[block, t]
                squared[0, t] = squares[block, t]
        else:
            rows[d] = rows[d - 1] + count[block]
            for t in range(trials):
                totals[d, t] = totals[d - 1, t] + sums[block, t]
                squared[d, t] = squared[d - 1, t] + squares[block, t]


@_vectorised
def _performance(total: FloatArray, square: FloatArray, n: float, mean_only: bool, out: FloatArray) -> None:
    """Every trial's performance on the concatenated blocks: the Sharpe ratio (or the mean) from the sums.
    Branch-free inside the loop so that it vectorises."""
    denominator = max(n - 1.0, 1.0)
    if mean_only:
        for t in range(total.shape[0]):
            out[t] = total[t] / n
        return
    for t in range(total.shape[0]):
        mean = total[t] / n
        std = math.sqrt(max((square[t] - n * mean * mean) / denominator, 0.0))
        out[t] = mean / std if std > 0 else 0.0


@kernel()
def _rank_of_best(inside: FloatArray, outside: FloatArray) -> float:
    """The out-of-sample rank (1 = worst, ties at their average) of the in-sample best (the first of equal
    bests)."""
    best = 0
    for t in range(1, inside.shape[0]):
        if inside[t] > inside[best]:
            best = t
    target = outside[best]
    below = 0.0
    equal = 0.0
    for t in range(outside.shape[0]):
        if outside[t] < target:
            below += 1.0
        elif outside[t] == target:
            equal += 1.0
    return below + (equal + 1.0) / 2.0


@kernel()
def pbo_ranks(
    sums: FloatArray, squares: FloatArray, count: FloatArray, halves: IntArray, mean_only: bool
) -> FloatArray:
    """For each CSCV combination (row ``c`` of ``halves``: the in-sample blocks, ascending, in
    ``itertools.combinations`` order; its complement is row ``C - 1 - c``), the out-of-sample rank of the
    in-sample best trial. ``sums``/``squares``: per-block sums of returns and squared returns (blocks x
    trials); ``count``: rows per block."""
    combos, depth = halves.shape
    trials = sums.shape[1]
    ranks = np.empty(combos)
    up_totals = np.empty((depth, trials))
    up_squared = np.empty((depth, trials))
    up_rows = np.empty(depth)
    down_totals = np.empty((depth, trials))
    down_squared = np.empty((depth, trials))
    down_rows = np.empty(depth)
    up = np.empty(trials)
    down = np.empty(trials)
    for c in range(combos // 2):
        partner = combos - 1 - c
        fresh = c == 0
        _advance(
            sums, squares, count, halves[c], halves[max(c - 1, 0)], fresh, up_totals, up_squared, up_rows
        )
        _advance(
            sums, squares, count, halves[partner], halves[min(partner + 1, combos - 1)], fresh, down_totals,
            down_squared, down_rows,
        )  # fmt: skip
        _performance(up_totals[depth - 1], up_squared[depth - 1], up_rows[depth - 1], mean_only, up)
        _performance(down_totals[depth - 1], down_squared[depth - 1], down_rows[depth - 1], mean_only, down)
        ranks[c] = _rank_of_best(up, down)
        ranks[partner] = _rank_of_best(down, up)
    return ranks
