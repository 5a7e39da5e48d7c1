"""The probability of backtest overfitting (PBO) by combinatorially symmetric cross-validation (CSCV).

Bailey, Borwein, López de Prado and Zhu, "The Probability of Backtest Overfitting", Journal of
Computational Finance 20(4), 2017 (working paper 2015). Given the returns of ``N`` trials (strategies
or parameter sets tried on the same data) over ``T`` periods:

1. cut the ``T`` rows into ``S`` (even) consecutive blocks of (nearly) equal length;
2. for every one of the ``C(S, S/2)`` ways to choose half of the blocks as the "in-sample" set ``J``
   (the rest, ``J'``, is the "out-of-sample" set), measure every trial's performance on ``J`` and on
   ``J'`` (the rows of the blocks concatenated);
3. take the trial ``n*`` that is best on ``J``; find its relative rank on ``J'``,
   ``w = rank / (N + 1)`` (rank 1 is the worst, ``N`` the best), and its logit
   ``lambda = ln(w / (1 - w))``;
4. PBO is the share of combinations whose ``lambda <= 0``: the in-sample best did no better than the
   median trial out of sample.

A PBO near 0 says that picking the in-sample best picks something that keeps working; near 0.5 or
above says that the selection is picking noise. Performance is the Sharpe ratio of the concatenated
returns (mean over standard deviation, per period), computed from per-block sums so that every
combination costs ``O(S * N)`` (a compiled kernel, :func:`.pbo_kernel.pbo_ranks`, computes each
half's performance once for the two combinations it serves, to the same bits as the plain numpy
formulation); ``"mean"`` (the mean return) is offered too, mainly so small examples can be checked by
hand. Ties in the out-of-sample ranking take the average rank.

Written here because no maintained Python package on the registry's well-kept list offers CSCV
(``pypbo`` is an unmaintained single-author repository); the algorithm is the paper's, ~40 lines.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
Metric = Literal["sharpe", "mean"]

MAX_COMBINATIONS = 20_000
"""Above this many combinations (S > 16) the work grows quickly for little gain: S is rejected."""


@dataclass(frozen=True)
class PBOResult:
    """The outcome of CSCV: the PBO, the number of blocks and trials, and each combination's logit."""

    pbo: float
    blocks: int
    trials: int
    logits: tuple[float, ...]

    def as_dict(self) -> dict[str, Any]:
        finite = [value for value in self.logits if math.isfinite(value)]
        return {
            "pbo": self.pbo,
            "blocks": self.blocks,
            "trials": self.trials,
            "combinations": len(self.logits),
            "median_logit": float(np.median(finite)) if finite else None,
            "method": "CSCV (Bailey, Borwein, López de Prado, Zhu 2015), Sharpe of concatenated blocks",
        }


def choose_blocks(periods: int, wanted: int, *, min_per_block: int = 2) -> int:
    """The even number of blocks to use: ``wanted``, or fewer when ``periods`` cannot fill each block
    with ``min_per_block`` rows; 0 when not even two blocks fit."""
    blocks = min(wanted, periods // max(1, min_per_block))
    blocks -= blocks % 2
    return blocks if blocks >= 2 else 0


def probability_of_overfitting(returns: FloatArray, blocks: int, *, metric: Metric = "sharpe") -> PBOResult:
    """CSCV over ``returns`` (T rows of periods, N columns of trials) cut into ``blocks`` blocks."""
    matrix = np.asarray(returns, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"returns must be a 2-D (periods x trials) array, got {matrix.ndim} dimensions")
    periods, trials = matrix.shape
    if blocks < 2 or blocks % 2:
        raise ValueError(f"blocks must be an even number >= 2 (got {blocks})")
    if periods < blocks:
        raise ValueError(f"{periods} periods cannot be cut into {blocks} blocks")
    if trials < 2:
        raise ValueError(f"PBO needs at least two trials (got {trials})")
    if math.comb(blocks, blocks // 2) > MAX_COMBINATIONS:
        raise ValueError(f"{blocks} blocks give too many combinations; use 16 or fewer")
    matrix = np.nan_to_num(matrix, nan=0.0, posinf=0.0, neginf=0.0)
    edges = np.linspace(0, periods, blocks + 1).round().astype(np.int64)
    count = np.diff(edges).astype(np.float64)  # rows per block
    sums = np.add.reduceat(matrix, edges[:-1], axis=0)  # (blocks, trials)
    squares = np.add.reduceat(matrix * matrix, edges[:-1], axis=0)

    from mastertrade.engine.generator.pbo_kernel import pbo_ranks

    halves = np.array(list(itertools.combinations(range(blocks), blocks // 2)), dtype=np.int64)
    ranks = pbo_ranks(sums, squares, count, halves, metric == "mean")
    w = ranks / (trials + 1.0)
    logits = [math.log(value / (1.0 - value)) for value in w.tolist()]
    pbo = sum(1 for value in logits if value <= 0) / len(logits)
    return PBOResult(pbo=pbo, blocks=blocks, trials=trials, logits=tuple(logits))


def daily_returns(
    equity: FloatArray, day_last: np.ndarray[Any, np.dtype[np.int64]], cash: float
) -> FloatArray:
    """Simple returns from one UTC day's last close to the next (the first from the starting cash)."""
    return returns_of_closes(np.asarray(equity, dtype=np.float64)[day_last], cash)


def returns_of_closes(daily_closes: FloatArray, cash: float) -> FloatArray:
    """:func:`daily_returns` from the daily closes themselves (the equity at each day's last bar)."""
    closes = np.concatenate([[cash], daily_closes])
    with np.errstate(divide="ignore", invalid="ignore"):
        out = closes[1:] / closes[:-1] - 1.0
    clean: FloatArray = np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)
    return clean


def returns_of_close_rows(daily_closes: FloatArray, cash: float) -> FloatArray:
    """:func:`returns_of_closes` of each row of ``daily_closes`` (strategies x days), the same numbers
    (element by element), in one pass over the matrix."""
    closes = np.concatenate([np.full((daily_closes.shape[0], 1), float(cash)), daily_closes], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = closes[:, 1:] / closes[:, :-1] - 1.0
    clean: FloatArray = np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)
    return clean
