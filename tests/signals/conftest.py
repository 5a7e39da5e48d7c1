"""Candles for the signal tests: the product's simulated market, and hand-made frames with known values."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from mastertrade.engine.market.sim import simulate

END = 1_735_689_600_000  # 2025-01-01T00:00:00Z: fixed, so the UTC sessions of VWAP are fixed too


def sim_frame(bars: int, seed: int = 5, symbol: str = "BTC/USDT", timeframe: str = "1h") -> pd.DataFrame:
    return simulate(symbol, timeframe, bars, seed, end=END)


def frame_of(
    close: Sequence[float], *, volume: Sequence[float] | None = None, spread: float = 0.5
) -> pd.DataFrame:
    """A 1h frame whose closes are ``close``; opens are the previous close, highs/lows ``spread`` around."""
    closes = np.asarray(close, dtype=np.float64)
    opens = np.concatenate([closes[:1], closes[:-1]])
    index = pd.date_range("2025-01-01", periods=len(closes), freq="h", tz="UTC", name="time")
    return pd.DataFrame(
        {
            "open": opens,
            "high": np.maximum(opens, closes) + spread,
            "low": np.minimum(opens, closes) - spread,
            "close": closes,
            "volume": np.ones(len(closes)) if volume is None else np.asarray(volume, dtype=np.float64),
        },
        index=index,
    )


@pytest.fixture(scope="session")
def year() -> pd.DataFrame:
    """One year of simulated 1h BTC candles."""
    return sim_frame(8760, seed=3)


@pytest.fixture(scope="session")
def candles() -> pd.DataFrame:
    """600 simulated 1h candles: long enough for every warm-up, quick to compute on."""
    return sim_frame(600, seed=5)
