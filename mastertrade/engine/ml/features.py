"""The bar features a forecast model reads: returns, ranges, volume, indicators, optional alternative data.

Every column at bar t is computed from bars up to and including t (rolling windows look back only), so a
row is known at the bar's close. Alternative-data columns come in already aligned by the feature store's
no-lookahead rule (``collectors/align.py``). Rows in the warm-up of the longest window hold NaN; the
windowing drops them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

FloatArray = np.ndarray[Any, np.dtype[np.float64]]

BAR_FEATURES = (
    "ret_1",
    "ret_4",
    "ret_24",
    "range",
    "body",
    "volume_z",
    "rsi_14",
    "sma_gap_20",
    "vol_24",
)
"""The candle features, in column order."""

WARMUP = 25
"""Bars before every candle feature is defined (the 24-bar windows and one return)."""


def _rsi(close: pd.Series, length: int) -> pd.Series:
    # Wilder's RSI, as the indicators module computes it; scaled to -1..1 so it sits beside returns.
    delta = close.diff()
    gain = delta.clip(lower=0).ewm(alpha=1 / length, adjust=False, min_periods=length).mean()
    loss = (-delta.clip(upper=0)).ewm(alpha=1 / length, adjust=False, min_periods=length).mean()
    rs = gain / loss.replace(0.0, np.nan)
    rsi = 100 - 100 / (1 + rs)
    rsi = rsi.where(loss != 0, 100.0)
    return (rsi - 50.0) / 50.0


def bar_features(frame: pd.DataFrame, extra: Mapping[str, FloatArray] | None = None) -> pd.DataFrame:
    """The feature table of ``frame`` (columns open/high/low/close/volume): one row per bar.

    ``extra`` adds aligned alternative-data columns (one value per bar, NaN where unknown); they are
    forward-filled only by the alignment, never here.
    """
    close = frame["close"].astype(float)
    logc = pd.Series(np.log(close.to_numpy()), index=frame.index)
    volume = frame["volume"].astype(float)
    logv = pd.Series(np.log1p(volume.to_numpy()), index=frame.index)
    ret_1 = logc.diff()
    table = pd.DataFrame(index=frame.index)
    table["ret_1"] = ret_1
    table["ret_4"] = logc.diff(4)
    table["ret_24"] = logc.diff(24)
    table["range"] = (frame["high"].astype(float) - frame["low"].astype(float)) / close
    table["body"] = (close - frame["open"].astype(float)) / close
    mean_v = logv.rolling(24).mean()
    std_v = logv.rolling(24).std()
    table["volume_z"] = ((logv - mean_v) / std_v.replace(0.0, np.nan)).fillna(0.0).where(mean_v.notna())
    table["rsi_14"] = _rsi(close, 14)
    table["sma_gap_20"] = close / close.rolling(20).mean() - 1.0
    table["vol_24"] = ret_1.rolling(24).std()
    for name, values in (extra or {}).items():
        column = np.asarray(values, dtype=np.float64)
        if column.shape[0] != len(frame):
            raise ValueError(f"feature {name}: {column.shape[0]} values for {len(frame)} bars")
        # Unknown alternative data is "no information" (0 after scaling), not a reason to drop the bar.
        table[name] = np.where(np.isnan(column), np.nan, column)
    return table


def feature_names(extra: Mapping[str, Any] | None = None) -> list[str]:
    return [*BAR_FEATURES, *(extra or {})]
