"""Training samples: windows of scaled features ending at bar t, and the label of bar t.

The label of bar t at horizon h is the log return from the close of t to the close of t + h, known only
at the close of t + h. A model retrained at the close of bar T may therefore learn from samples
t <= T - h, never later ones: :func:`known_labels` is that rule, and the walk-forward uses nothing else.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]


def labels(close: FloatArray, horizon: int) -> FloatArray:
    """Log return from the close of t to the close of t + horizon (NaN beyond the data)."""
    logc = np.log(np.asarray(close, dtype=np.float64))
    out = np.full(logc.shape[0], np.nan)
    if logc.shape[0] > horizon:
        out[:-horizon] = logc[horizon:] - logc[:-horizon]
    return out


def known_labels(at: int, horizon: int) -> int:
    """The last sample index whose label is known at the close of bar ``at``."""
    return at - horizon


@dataclass(frozen=True)
class Scaler:
    """Standardisation fitted on training rows only (mean and scale per feature)."""

    mean: FloatArray
    scale: FloatArray

    @classmethod
    def fit(cls, rows: FloatArray) -> Scaler:
        """A feature with no value in the training rows (alternative data that starts later) is
        centred on 0 with scale 1; numpy's warnings about its empty slice are not the user's concern."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(rows, axis=0)
            scale = np.nanstd(rows, axis=0)
        mean = np.where(np.isnan(mean), 0.0, mean)
        scale = np.where(~np.isfinite(scale) | (scale < 1e-12), 1.0, scale)
        return cls(mean, scale)

    def transform(self, rows: FloatArray) -> FloatArray:
        scaled = (rows - self.mean) / self.scale
        # Missing alternative data reads as the training mean; extreme values are clipped so one
        # outlier bar cannot saturate the network.
        return np.clip(np.nan_to_num(scaled, nan=0.0), -8.0, 8.0)


def window_indices(
    valid: np.ndarray[Any, np.dtype[np.bool_]], window: int, start: int, stop: int
) -> IntArray:
    """Bars t in [start, stop] whose ``window`` rows ending at t have every candle feature."""
    start = max(start, window - 1)
    if stop < start:
        return np.zeros(0, dtype=np.int64)
    ok = valid.astype(np.int64)
    counts = np.concatenate([[0], np.cumsum(ok)])
    ends = np.arange(start, stop + 1)
    full = counts[ends + 1] - counts[ends + 1 - window] == window
    chosen: IntArray = ends[full].astype(np.int64)
    return chosen


def stack(scaled: FloatArray, ends: IntArray, window: int) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Windows ``scaled[t - window + 1 .. t]`` for each t in ``ends``: shape (len(ends), window, features)."""
    offsets = np.arange(-window + 1, 1)
    return np.asarray(scaled[ends[:, None] + offsets[None, :]], dtype=np.float32)
