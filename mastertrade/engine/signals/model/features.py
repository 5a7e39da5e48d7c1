"""The observation of bar t: what a policy sees at that close, computed from bars up to t only.

Log returns of the close over 1, 2, 4, 8 and 16 bars, the 16-bar volatility of one-bar log returns and
RSI(14) (from the indicator cache genomes share, so a model strategy uses the same numbers), each
standardised with the mean and deviation measured on the training bars (stored in the artifact, so the
same scaling applies on any later bar), clipped to +/-5 and 0 during warm-up.

The features are a function of the candles alone: the signals of a model strategy are then a function
of the bars, like a genome's, and pass the same truncation (no-lookahead) test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from mastertrade.engine.signals.indicators import IndicatorCache

FloatArray = np.ndarray[Any, np.dtype[np.float64]]

FEATURES: tuple[str, ...] = ("ret_1", "ret_2", "ret_4", "ret_8", "ret_16", "vol_16", "rsi_14")
FEATURE_SET = "bars-v1"
"""The name of this feature definition, stored in an artifact: a change of the list above or of how a
feature is computed must change it, so an old policy is refused instead of fed different inputs."""

WARMUP = 17
CLIP = 5.0


def raw_features(cache: IndicatorCache) -> FloatArray:
    """Unscaled features, one row per bar (NaN where a bar lacks the history)."""
    close = cache.price("close")
    n = len(close)
    log_close = np.log(close)
    out = np.full((n, len(FEATURES)), np.nan)
    for column, lag in enumerate((1, 2, 4, 8, 16)):
        out[lag:, column] = log_close[lag:] - log_close[:-lag]
    one = out[:, 0]
    if n > 16:
        windows = np.lib.stride_tricks.sliding_window_view(one[1:], 16)
        out[16:, 5] = windows.std(axis=1)
    out[:, 6] = cache.indicator("rsi", length=14) / 100.0 - 0.5
    out[:WARMUP] = np.nan
    return out


def scaling(raw: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Mean and deviation of each feature over the given (training) rows, ignoring warm-up."""
    finite = raw[np.all(np.isfinite(raw), axis=1)]
    if len(finite) < 2:
        return np.zeros(raw.shape[1]), np.ones(raw.shape[1])
    std = finite.std(axis=0)
    return finite.mean(axis=0), np.where(std > 0, std, 1.0)


def observations(raw: FloatArray, mean: FloatArray, std: FloatArray) -> FloatArray:
    """Standardised, clipped features with 0 during warm-up."""
    scaled = (raw - mean) / std
    return np.clip(np.nan_to_num(scaled, nan=0.0), -CLIP, CLIP)
