"""The compiled scoring kernel: many strategies, each backtested on every walk-forward window at once.

For strategy g (row g of the 2-D ``entries``/``exits`` arrays, order parameters at index g) it runs the
fast engine's own single-pass backtest (``backtest.fast.simulate_into``, so the semantics are exactly
``mt backtest``'s) on:

- each out-of-sample (OOS) window, a fresh account with the full cash, as ``walkforward.evaluate`` does;
  the metrics of each fold are one row each;
- the **stitched OOS curve**: the OOS windows are consecutive and tile the end of the series, so their
  equity curves are chained into one, each window's curve scaled by the growth of the windows before it
  (a position still open at a window's end is marked at its last close, as the engine reports it). Its
  metrics are the OOS score the search and the filter use, and the daily returns of this curve give the
  moments (count, mean, standard deviation, skewness, kurtosis) of the deflated Sharpe ratio;
- the in-sample (IS) window: every bar before the first OOS window (disjoint from OOS);
- with ``detail``: the full series (what ``mt backtest`` reports) and each fold's own IS window.

Metrics come from ``backtest.metrics.metrics_kernel`` over each window's equity, the indices of each UTC
day's last bar inside the window and the window's span in years, exactly as ``run_fast`` computes them
on ``frame.iloc[window]``, so a window's row equals ``walkforward.evaluate``'s numbers to the last bit.

Strategies are dealt to ``workers`` numba threads (``prange``); each thread allocates its buffers once.

numba caches a compiled function by its own file, not by the kernels it calls: a change to
``metrics.metrics_kernel`` reaches the cached kernels here only with a change to this file too (last:
the precomputed days of each window).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import prange

from mastertrade.engine.backtest._numba import kernel
from mastertrade.engine.backtest.fast import closed_and_exposed, simulate_into, trade_buffers
from mastertrade.engine.backtest.metrics import KERNEL_KEYS, metrics_kernel

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]

METRICS = len(KERNEL_KEYS)
ROW_OOS = 0
ROW_IS = 1
ROW_FULL = 2
FOLD_ROWS = 3
"""Rows 3 .. 3 + K - 1 are the folds' OOS windows, then K rows of the folds' IS windows."""
MOMENTS = 5
"""Daily returns of the stitched OOS curve: count, mean, standard deviation (ddof 1), skewness, kurtosis."""

_YEAR_MS = 365 * 86_400_000


def rows(folds: int) -> int:
    return FOLD_ROWS + 2 * folds


@kernel()
def _day_last(day: IntArray, a: int, b: int, out: IntArray) -> int:
    """Write the window-relative indices of each day's last bar in bars ``[a, b)``; return their count."""
    d = 0
    for i in range(a, b):
        if i == b - 1 or day[i + 1] != day[i]:
            out[d] = i - a
            d += 1
    return d


@kernel()
def _years(ts: IntArray, a: int, b: int) -> float:
    return float(ts[b - 1] - ts[a]) / _YEAR_MS if b - a >= 2 else 0.0


@kernel()
def _window(
    open_: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    entries: Any,
    exits: Any,
    stop_loss: float,
    take_profit: float,
    trailing_stop: float,
    size: float,
    cash: float,
    fee: float,
    unit: float,
    a: int,
    b: int,
    equity: FloatArray,
    entry_bar: IntArray,
    exit_bar: IntArray,
    entry_price: FloatArray,
    exit_price: FloatArray,
    units: FloatArray,
    pnl: FloatArray,
    reason: IntArray,
    closed_pnl: FloatArray,
) -> tuple[int, int]:
    """Backtest bars ``[a, b)``: equity into ``equity[:b - a]``, closed trades' P&L into ``closed_pnl``.
    Returns (closed trades, bars in a position)."""
    k = simulate_into(
        open_[a:b], high[a:b], low[a:b], close[a:b], entries[a:b], exits[a:b], stop_loss, take_profit,
        trailing_stop, size, cash, fee, unit, equity, entry_bar, exit_bar, entry_price, exit_price, units,
        pnl, reason,
    )  # fmt: skip
    return closed_and_exposed(entry_bar, exit_bar, pnl, k, b - a, closed_pnl)


@kernel()
def _moments(equity: FloatArray, day_last: IntArray, days: int, out: FloatArray) -> None:
    """Count, mean, sample std, skewness and kurtosis (not excess) of the daily returns."""
    out[:] = np.nan
    m = days - 1
    out[0] = max(m, 0)
    if m < 1:
        return
    total = 0.0
    for d in range(m):
        total += equity[day_last[d + 1]] / equity[day_last[d]] - 1.0
    mean = total / m
    m2 = 0.0
    m3 = 0.0
    m4 = 0.0
    for d in range(m):
        x = equity[day_last[d + 1]] / equity[day_last[d]] - 1.0 - mean
        m2 += x * x
        m3 += x * x * x
        m4 += x * x * x * x
    out[1] = mean
    if m >= 2:
        out[2] = math.sqrt(m2 / (m - 1))
    if m2 > 0.0:
        variance = m2 / m
        out[3] = (m3 / m) / variance**1.5
        out[4] = (m4 / m) / (variance * variance)


@kernel(parallel=True)
def score_many(
    open_: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    entries: Any,
    exits: Any,
    stop_loss: FloatArray,
    take_profit: FloatArray,
    trailing_stop: FloatArray,
    size: FloatArray,
    cash: float,
    fee: float,
    unit: float,
    day: IntArray,
    ts: IntArray,
    is_bounds: IntArray,
    oos_bounds: IntArray,
    fold_is_bounds: IntArray,
    detail: bool,
    workers: int,
) -> tuple[FloatArray, FloatArray]:
    """Score every strategy (see the module docstring). Returns ``values`` of shape
    (strategies, ``rows(folds)``, ``METRICS``), NaN where not computed, and ``moments`` of shape
    (strategies, ``MOMENTS``)."""
    count = entries.shape[0]
    n = open_.shape[0]
    folds = oos_bounds.shape[0]
    values = np.full((count, FOLD_ROWS + 2 * folds, METRICS), np.nan)
    moments = np.full((count, MOMENTS), np.nan)
    first_oos = oos_bounds[0, 0]
    last_oos = oos_bounds[folds - 1, 1]
    # Each window's last bar of every day is the same for all strategies: found once, here. Windows:
    # the folds' OOS, the stitched OOS, the IS; with detail, the folds' IS and the full series.
    spans = np.empty((2 * folds + 3, 2), np.int64)
    spans[:folds] = oos_bounds
    spans[folds] = (first_oos, last_oos)
    spans[folds + 1] = (is_bounds[0], is_bounds[1])
    spans[folds + 2 : 2 * folds + 2] = fold_is_bounds
    spans[2 * folds + 2] = (0, n)
    windows = 2 * folds + 3 if detail else folds + 2
    day_lasts = np.empty((windows, n), np.int64)
    days = np.empty(windows, np.int64)
    for i in range(windows):
        days[i] = _day_last(day, spans[i, 0], spans[i, 1], day_lasts[i])
    for w in prange(workers):
        buffers = trade_buffers(n)
        equity, entry_bar, exit_bar, entry_price, exit_price, units, pnl, reason, closed_pnl = buffers
        stitched = np.empty(n)
        stitched_pnl = np.empty(n)
        for g in range(w, count, workers):
            e_row = entries[g]
            x_row = exits[g]
            sl = stop_loss[g]
            tp = take_profit[g]
            tr = trailing_stop[g]
            sz = size[g]
            # out of sample: each fold, and the stitched curve
            position = 0
            factor = 1.0
            total_closed = 0
            total_exposed = 0
            for f in range(folds):
                a = oos_bounds[f, 0]
                b = oos_bounds[f, 1]
                closed, exposed = _window(
                    open_, high, low, close, e_row, x_row, sl, tp, tr, sz, cash, fee, unit, a, b, equity,
                    entry_bar, exit_bar, entry_price, exit_price, units, pnl, reason, closed_pnl,
                )  # fmt: skip
                m = b - a
                values[g, FOLD_ROWS + f] = metrics_kernel(
                    equity[:m], day_lasts[f, : days[f]], _years(ts, a, b), cash, closed_pnl[:closed], exposed
                )
                for j in range(m):
                    stitched[position + j] = equity[j] * factor
                for j in range(closed):
                    stitched_pnl[total_closed + j] = closed_pnl[j] * factor
                position += m
                total_closed += closed
                total_exposed += exposed
                factor = stitched[position - 1] / cash
            d = days[folds]
            values[g, ROW_OOS] = metrics_kernel(
                stitched[:position],
                day_lasts[folds, :d],
                _years(ts, first_oos, last_oos),
                cash,
                stitched_pnl[:total_closed],
                total_exposed,
            )
            _moments(stitched, day_lasts[folds], d, moments[g])
            # in sample: the bars before the first OOS window
            a = is_bounds[0]
            b = is_bounds[1]
            closed, exposed = _window(
                open_, high, low, close, e_row, x_row, sl, tp, tr, sz, cash, fee, unit, a, b, equity,
                entry_bar, exit_bar, entry_price, exit_price, units, pnl, reason, closed_pnl,
            )  # fmt: skip
            d = days[folds + 1]
            values[g, ROW_IS] = metrics_kernel(
                equity[: b - a],
                day_lasts[folds + 1, :d],
                _years(ts, a, b),
                cash,
                closed_pnl[:closed],
                exposed,
            )
            if not detail:
                continue
            for f in range(folds + 1):
                span = folds + 2 + f
                a = spans[span, 0]
                b = spans[span, 1]
                row = FOLD_ROWS + folds + f if f < folds else ROW_FULL
                closed, exposed = _window(
                    open_, high, low, close, e_row, x_row, sl, tp, tr, sz, cash, fee, unit, a, b, equity,
                    entry_bar, exit_bar, entry_price, exit_price, units, pnl, reason, closed_pnl,
                )  # fmt: skip
                values[g, row] = metrics_kernel(
                    equity[: b - a], day_lasts[span, : days[span]], _years(ts, a, b), cash,
                    closed_pnl[:closed], exposed,
                )  # fmt: skip
    return values, moments
