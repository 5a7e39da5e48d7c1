"""Compiled kernels for the indicators a search computes by the hundred, where pandas-ta's own cost more
than the search can afford.

pandas-ta 0.4.71b0 wraps every step in pandas Series (Bollinger bands: a convolution SMA, a rolling
variance, five Series operations; ADX: a Python-level ``apply`` per bar), holds the GIL throughout and
loads its own numba kernels. The generator computes a few hundred distinct indicators per run, so those
wrappers were a third of its search. These kernels are the loops the indicators are made of; the
formulas around them are in :mod:`.formulas`. Each is one pass (or one pass per window), releases the
GIL so two indicators compute on two cores, and is compiled once per installation (``precompile``).
Five generic loops rather than one kernel per indicator: a process pays numba's cache load (about 7 ms
each after the first, ``benchmarks/indicators.py``) only for the kernels its indicators call, lazily
on the first call (or all at once on a thread: :func:`load`). OBV and VWAP have one each
(:func:`on_balance_volume`, :func:`session_vwap`): a search asks for each once, but pandas-ta's own
cost it pandas-ta's import, 0.5 s.

- :func:`rolling_mean`: a compensated (Neumaier) running sum, so each value is the window's mean to
  within an ulp or two of the exact one; a flat window (every value equal) gives that value exactly.
  pandas-ta's is a full convolution (``length`` multiplications per bar).
- :func:`mean_deviation`: one pass over each window around its mean (``length`` operations per bar).
- :func:`rolling_deviation`: compensated running sums around a reference that follows the mean, so
  each value is within a few ulps of the exact deviation and a flat window's is exactly 0, where
  pandas' running variance leaves a residue of 1e-7 after a move.
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
IntArray = np.ndarray[Any, np.dtype[np.int64]]


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
def _add(total: float, compensation: float, value: float) -> tuple[float, float]:
    """One step of Neumaier's compensated sum: the new total and the running rounding error."""
    t = total + value
    if abs(total) >= abs(value):
        compensation += (total - t) + value
    else:
        compensation += (value - t) + total
    return t, compensation


@kernel()
def rolling_deviation(values: FloatArray, length: int) -> FloatArray:
    """The population standard deviation (ddof 0) of each bar's last ``length`` values (NaN before
    ``length`` bars); exactly 0 on a flat window.

    One pass: compensated running sums of ``x - r`` and ``(x - r) ** 2`` around a reference ``r``, the
    squared deviations being ``sum((x - r) ** 2) - sum(x - r) ** 2 / length``. That difference loses
    digits as ``r`` strays from the window's mean, so once the mean is more than four deviations away
    the sums start again (two passes over the window) around the mean: within a few ulps of the exact
    deviation (the test compares with ``statistics.pstdev``) at a cost that does not grow with
    ``length``. pandas' running variance has no such restart and keeps a residue of 1e-7 relative where
    a move is followed by a flat stretch."""
    n = values.shape[0]
    out = np.full(n, np.nan)
    if n == 0:
        return out
    same = 0
    reference = values[0]
    gaps = gaps_error = squares = squares_error = 0.0
    for i in range(n):
        same = same + 1 if i > 0 and values[i] == values[i - 1] else 1
        gap = values[i] - reference
        gaps, gaps_error = _add(gaps, gaps_error, gap)
        squares, squares_error = _add(squares, squares_error, gap * gap)
        if i >= length:
            gap = values[i - length] - reference
            gaps, gaps_error = _add(gaps, gaps_error, -gap)
            squares, squares_error = _add(squares, squares_error, -(gap * gap))
        if i < length - 1:
            continue
        if same >= length:
            out[i] = 0.0
            continue
        total = gaps + gaps_error
        spread = (squares + squares_error) - total * total / length
        if not total * total <= 16.0 * length * spread:  # the mean is over four deviations from r
            reference += total / length
            gaps = gaps_error = squares = squares_error = 0.0
            for j in range(i - length + 1, i + 1):
                gap = values[j] - reference
                gaps, gaps_error = _add(gaps, gaps_error, gap)
                squares, squares_error = _add(squares, squares_error, gap * gap)
            total = gaps + gaps_error
            spread = (squares + squares_error) - total * total / length
        out[i] = np.sqrt(max(spread, 0.0) / length)
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


@kernel()
def on_balance_volume(close: FloatArray, volume: FloatArray) -> FloatArray:
    """pandas-ta's OBV step for step: the running sum of volume signed by the close's move (+1 up, -1
    down, 0 unchanged), NaN at bar 0 (pandas-ta's ``signed_series`` leaves its first sign NaN) and
    summed from 0 after it, as ``Series.cumsum`` skips a NaN: the same bits."""
    n = close.shape[0]
    out = np.full(n, np.nan)
    total = 0.0
    for i in range(1, n):
        move = close[i] - close[i - 1]
        if move != move:  # a missing close: NaN here, skipped by the sum (the store keeps none)
            continue
        if move > 0:
            total += volume[i]
        elif move < 0:
            total += -1.0 * volume[i]
        else:
            total += move * volume[i]  # 0 times the volume, as pandas-ta multiplies its sign
        out[i] = total
    return out


@kernel()
def session_vwap(typical: FloatArray, volume: FloatArray, session: IntArray) -> FloatArray:
    """pandas-ta's VWAP step for step: within each run of equal ``session`` numbers (a UTC day), the
    running sum of ``typical * volume`` over the running sum of volume, each a Kahan-compensated sum as
    pandas' ``groupby().cumsum()`` computes it (``_libs/groupby.pyx``): the same bits."""
    n = typical.shape[0]
    out = np.full(n, np.nan)
    weighted = weighted_error = volumes = volumes_error = 0.0
    for i in range(n):
        if i == 0 or session[i] != session[i - 1]:
            weighted = weighted_error = volumes = volumes_error = 0.0
        value = typical[i] * volume[i]
        y = value - weighted_error
        t = weighted + y
        weighted_error = t - weighted - y
        weighted = t
        y = volume[i] - volumes_error
        t = volumes + y
        volumes_error = t - volumes - y
        volumes = t
        if volumes != 0.0:
            out[i] = weighted / volumes
        elif weighted != 0.0 and weighted == weighted:
            out[i] = np.inf if weighted > 0.0 else -np.inf
    return out


def load() -> None:
    """Load every kernel above from numba's disk cache (compiling it on a first run) by calling it on a
    few values of the types the formulas pass: a read-only C-contiguous float64 array, Python ints,
    floats and bools (``formulas._input``). A scorer runs this on a thread while the search breeds its
    first generation (:meth:`~mastertrade.engine.generator.evaluation.Scorer.load_kernels`)."""
    values: FloatArray = np.linspace(1.0, 2.0, 8, dtype=np.float64)
    values.flags.writeable = False
    rolling_mean(values, 3)
    mean_deviation(values, values, 3)
    rolling_deviation(values, 3)
    rolling_extreme(values, 3, True)
    ewm_mean(values, 1, 1.0, 1.0)
    on_balance_volume(values, values)
    session_vwap(values, values, np.zeros(8, dtype=np.int64))
