"""Compiled kernels for the simplest indicators, where pandas-ta's own cost more than the search can
afford.

pandas-ta 0.4.71b0 computes a simple moving average as a full convolution (``np.convolve`` with a
window of ones: ``length`` multiplications per bar, inside a kernel that holds the GIL), plus a pandas
Series around it; the generator computes hundreds of them per run. :func:`rolling_mean` is one pass with
a compensated (Neumaier) running sum, so each value is the window's mean to within an ulp or two of the
exact one (pandas-ta's differs from the exact mean by a few ulps too; the test in ``tests/signals``
holds both to the textbook definition). It releases the GIL.
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
    for i in range(n):
        for value in (values[i], -values[i - length] if i >= length else 0.0):
            t = total + value
            if abs(total) >= abs(value):
                compensation += (total - t) + value
            else:
                compensation += (value - t) + total
            total = t
        if i >= length - 1:
            out[i] = (total + compensation) / length
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
