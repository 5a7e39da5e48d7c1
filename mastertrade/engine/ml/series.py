"""Forecasts as feature points: the value made at the close of bar t, published at that close."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mastertrade.engine.collectors.base import FeaturePoint


def bar_opens(frame: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.int64]]:
    return np.asarray(pd.DatetimeIndex(frame.index).as_unit("ms").asi8, dtype=np.int64)


def forecast_points(
    name: str,
    symbol: str,
    opens: np.ndarray[Any, np.dtype[np.int64]],
    values: np.ndarray[Any, Any],
    bar_ms: int,
) -> list[FeaturePoint]:
    """One point per bar that has a forecast: ts = the bar's open, published_at = its close."""
    return [
        FeaturePoint(name, float(values[i]), int(opens[i]), int(opens[i]) + bar_ms, symbol)
        for i in np.flatnonzero(~np.isnan(values))
    ]
