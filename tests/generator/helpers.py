"""Helpers of the generator tests: settings with a [generator] section, candles in a database."""

from __future__ import annotations

from typing import Any

import pandas as pd

from mastertrade.config import GeneratorSettings, Settings, load_settings
from mastertrade.engine.market.store import CandleStore, SeriesKey, rows_from_frame

LENIENT = {
    "min_trades": 3,
    "min_oos_sharpe": 0.0,
    "min_deflated_sharpe": 0.0,
    "max_drawdown_pct": 100.0,
    "max_exposure_pct": 100.0,
}
"""Filter bounds that let most feasible strategies pass (on simulated data, nothing passes the defaults)."""

SIM_3000 = (
    "data",
    "sim",
    "BTC/USDT",
    "--timeframe",
    "1h",
    "--bars",
    "3000",
    "--seed",
    "11",
    "--end",
    "2025-01-01",
)
"""`mt data sim` of about four months of 1h BTC/USDT candles ending 2025-01-01 (seed 11)."""


def settings_with(**generator: Any) -> Settings:
    settings = load_settings()
    return settings.model_copy(
        update={"generator": GeneratorSettings(**{"lookback_bars": 3000, **generator})}
    )


async def store_candles(database: Any, frame: pd.DataFrame, symbol: str = "BTC/USDT") -> None:
    await CandleStore(database).upsert(SeriesKey("sim", symbol, "1h"), rows_from_frame(frame))
