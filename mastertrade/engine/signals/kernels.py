"""Compiled kernels for the indicators a search computes by the hundred, where pandas-ta's own cost more
than the search can afford.

pandas-ta 0.4.71b0 wraps every step in pandas Series (Bollinger bands: a convolution SMA, a rolling
variance, five Series operations; ADX: a Python-level ``apply`` per bar), holds the GIL throughout and
loads its own numba kernels. The generator computes a few hundred distinct indicators per run, so those
wrappers were a third of its search. These five kernels are the loops the indicators are made of; the
formulas around them are in :mod:`.formulas`. Each is one pass (or one pass per window), releases the
GIL so two indicators compute on two cores, and is compiled once per installation (``precompile``).

- :func:`rolling_mean`: a compensated (Neumaier) running sum, so each value is the window's mean to
  within an ulp or two of the exact one; a flat window (every value equal) gives that value exactly.
  pandas-ta's is a full convolution (``length`` multiplications per bar).
- :func:`mean_deviation` and :func:`rolling_deviation`: two passes over each window around its mean
  (``length`` operations per bar) rather than pandas' one-pass running variance, which on a flat
  stretch after a move leaves a residue of 1e-7 where the deviation is exactly zero (the tests show it).
- :func:`rolling_extreme`: the highest or lowest value of each window with a monotonic queue (each
  value enters and leaves it once): exact, like pandas' rolling max/min.
- :func:`ewm_mean`: pandas' ``ewm(adjust=False).mean()`` step for step (the same weights, the same
  operations in the same order, NaN handling included), so EMAs and Wilder's averages match pandas-ta's
  to the bit from the same seed.

The inputs are finite prices (the store rejects others); outputs are NaN in the warm-up.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mastertrade.engine.backtest._numba import kernel

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


@kernel()
def rolling_mean(values: FloatArray, length: int) -> FloatArray:
    """The mean of each bar's last ``length`` values (NaN before ``length`` bars)."""
    n = values.shape[0]
    out = np.full(n, np.nan)
    total = 0.0
    compensation = 0.0
    same = 0  # how many values in a row equal the current one
    for i in range(n):
        same = same + 1 if i > 0 and values[i] == values[i - 1] else 1
        for value in (values[i], -values[i - length] if i >= length else 0.0):
            t = total + value
            if abs(total) >= abs(value):
                compensation += (total - t) + value
            else:
                compensation += (value - t) + total
            total = t
        if i >= length - 1:
            out[i] = values[i] if same >= length else (total + compensation) / length
    return out


@kernel()
def mean_deviation(values: FloatArray, means: FloatArray, length: int) -> FloatArray:
    """The mean absolute deviation of each bar's last ``length`` values from ``means`` at that bar (the
    window's mean; NaN before ``length`` bars): one pass over each window, no window copies."""
    n = values.shape[0]
    out = np.full(n, np.nan)
    for i in range(length - 1, n):
        centre = means[i]
        total = 0.0
        for j in range(i - length + 1, i + 1):
            total += abs(values[j] - centre)
        out[i] = total / length
    return out


@kernel()
def rolling_deviation(values: FloatArray, means: FloatArray, length: int) -> FloatArray:
    """The population standard deviation (ddof 0) of each bar's last ``length`` values around ``means``
    at that bar (the window's mean; NaN before ``length`` bars); exactly 0 on a flat window."""
    n = values.shape[0]
    out = np.full(n, np.nan)
    same = 0
    for i in range(n):
        same = same + 1 if i > 0 and values[i] == values[i - 1] else 1
        if i < length - 1:
            continue
        if same >= length:
            out[i] = 0.0
            continue
        centre = means[i]
        total = 0.0
        for j in range(i - length + 1, i + 1):
            gap = values[j] - centre
            total += gap * gap
        out[i] = np.sqrt(total / length)
    return out


@kernel()
def rolling_extreme(values: FloatArray, length: int, highest: bool) -> FloatArray:
    """The highest (or lowest) of each bar's last ``length`` values (NaN before ``length`` bars)."""
    n = values.shape[0]
    out = np.full(n, np.nan)
    queue = np.empty(n, dtype=np.int64)  # indices whose values decrease (increase) from head to tail
    head = 0
    tail = 0
    for i in range(n):
        value = values[i]
        while tail > head:
            last = values[queue[tail - 1]]
            if (last > value) if highest else (last < value):
                break
            tail -= 1
        queue[tail] = i
        tail += 1
        if queue[head] <= i - length:
            head += 1
        if i >= length - 1:
            out[i] = values[queue[head]]
    return out


@kernel()
def ewm_mean(values: FloatArray, start: int, seed: float, com: float) -> FloatArray:
    """pandas' ``Series.ewm(com=com, adjust=False).mean()`` of ``values`` with everything before
    ``start`` taken as NaN and ``values[start]`` replaced by ``seed`` (how pandas-ta seeds its EMA and
    ATR with an SMA). Bars before ``start`` are NaN.

    The steps are pandas' (``window/aggregations.pyx``: ``ewm`` with ``adjust=False``,
    ``ignore_na=False``): alpha is ``1 / (1 + com)``; a new value ``x`` moves the average ``w`` to
    ``((1 - alpha) * w + alpha * x) / ((1 - alpha) + alpha)`` unless it equals ``w``; a NaN leaves
    ``w`` in place and decays its weight once more, so the next value counts for more."""
    n = values.shape[0]
    out = np.full(n, np.nan)
    if start >= n:
        return out
    alpha = 1.0 / (1.0 + com)
    old_wt_factor = 1.0 - alpha
    weighted = seed
    out[start] = weighted
    old_wt = 1.0
    for i in range(start + 1, n):
        cur = values[i]
        observed = cur == cur
        if weighted == weighted:
            old_wt *= old_wt_factor
            if observed:
                if weighted != cur:
                    weighted = old_wt * weighted + alpha * cur
                    divisor = old_wt + alpha
                    if divisor != 1.0:  # x / 1.0 is x: the same bits without the division's latency
                        weighted /= divisor
                old_wt = 1.0
        elif observed:
            weighted = cur
        out[i] = weighted
    return out
