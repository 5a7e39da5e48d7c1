"""Helpers of the backtest tests: tiny hand-made candle series and signal arrays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

START = pd.Timestamp("2024-01-01T00:00:00Z")


def candles(bars: Sequence[tuple[float, float, float, float]], freq: str = "1h") -> pd.DataFrame:
    """A store-format frame from (open, high, low, close) tuples, hourly from 2024-01-01 UTC."""
    index = pd.date_range(START, periods=len(bars), freq=freq, name="time").as_unit("ms")
    frame = pd.DataFrame(bars, columns=["open", "high", "low", "close"], index=index, dtype=np.float64)
    frame["volume"] = 1.0
    return frame


def flat(n: int, price: float = 100.0) -> list[tuple[float, float, float, float]]:
    """``n`` bars that never move."""
    return [(price, price, price, price)] * n


def marks(n: int, *bars: int) -> np.ndarray:
    """A boolean signal array of length ``n`` that is true at ``bars``."""
    out = np.zeros(n, dtype=bool)
    out[list(bars)] = True
    return out
