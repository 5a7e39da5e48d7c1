"""Fold candles into longer bars: ``fold(frame, step_ms)`` groups a store-format frame into buckets of
``step_ms`` aligned on the epoch (as the stored series of that timeframe are) with the first open, the
highest high, the lowest low, the last close and the summed volume; the newest bucket may be partial."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def fold(frame: pd.DataFrame, step_ms: int) -> pd.DataFrame:
    import pandas as pd

    if frame.empty:
        return frame
    folded = frame.resample(pd.Timedelta(milliseconds=step_ms), origin="epoch", label="left").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    )
    return folded.dropna(subset=["open"])
