"""Aligning a feature series to candle bars without lookahead.

The backtest contract: the signal of bar ``t`` is computed on its close and filled at the open of bar
``t + 1``. The issue asks for the stricter reading of "usable only from the bar after it was
published", and this module implements exactly that:

    A value published at time ``p`` is visible to bar ``t`` if and only if ``p < open(t)``.

So a value published during bar ``t`` (``open(t) <= p < open(t) + timeframe``), including exactly at
its open, is first seen by bar ``t + 1``'s signal, never by bar ``t``'s, although bar ``t``'s close comes
after ``p``. The bar during which something became known cannot have traded on it: the price action of
that very bar may be what produced the news (a headline about a crash published mid-bar), and a
signal that read it at the bar's close would act on a value the bar's own prices helped create. It
costs at most one bar of delay and rules the subtle cases out.

Among the values visible to a bar, the one with the latest ``ts`` (the newest observation) is used; it
is carried forward to later bars ("forward fill") until ``max_age_ms`` has passed since it was
published, after which the bar gets NaN (unknown) rather than an ever older value. Comparisons on NaN
are false, so a strategy rule on a stale feature simply does not fire. The maximum age of each feature
is fixed in advance (``signals/feature_catalog.py``: a day for sentiment, three days for daily crypto
series, five for stock indices, which skip weekends), never derived from the data: a statistic of the
whole stored series would itself be a peek at the future.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mastertrade.engine.collectors.store import FeatureSeries

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]


def align(
    ts: IntArray,
    published_at: IntArray,
    values: FloatArray,
    bar_open: IntArray,
    *,
    max_age_ms: int | None = None,
) -> FloatArray:
    """The value of the feature each bar may use (see the module docstring), NaN where none.

    ``ts``, ``published_at`` and ``values`` describe the points in any order; ``bar_open`` holds the bars'
    open times (epoch ms), ascending.
    """
    ts = np.asarray(ts, dtype=np.int64)
    published = np.asarray(published_at, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    bar_open = np.asarray(bar_open, dtype=np.int64)
    out = np.full(bar_open.shape[0], np.nan)
    if ts.shape[0] == 0 or bar_open.shape[0] == 0:
        return out
    # Points in order of publication; ties by observation time, so the newer observation wins.
    order = np.lexsort((ts, published))
    pub_sorted = published[order]
    ts_sorted = ts[order]
    # best[k]: among the first k + 1 published points, the index (in `order`) of the newest observation.
    running_max = np.maximum.accumulate(ts_sorted)
    is_new_max = ts_sorted == running_max
    best = np.maximum.accumulate(np.where(is_new_max, np.arange(ts_sorted.shape[0]), 0))
    # Visible points for a bar are those published strictly before its open.
    visible = np.searchsorted(pub_sorted, bar_open, side="left")
    has = visible > 0
    chosen = order[best[visible[has] - 1]]
    picked = values[chosen]
    if max_age_ms is not None:
        age = bar_open[has] - published[chosen]
        picked = np.where(age <= max_age_ms, picked, np.nan)
    out[has] = picked
    return out


def align_series(series: FeatureSeries, bar_open: IntArray, max_age_ms: int | None) -> FloatArray:
    """``align`` for a stored series."""
    return align(series.ts, series.published_at, series.values, bar_open, max_age_ms=max_age_ms)
