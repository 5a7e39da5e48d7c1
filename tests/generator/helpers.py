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


def settings_with(**generator: Any) -> Settings:
    settings = load_settings()
    return settings.model_copy(
        update={"generator": GeneratorSettings(**{"lookback_bars": 3000, **generator})}
    )


async def store_candles(database: Any, frame: pd.DataFrame, symbol: str = "BTC/USDT") -> None:
    await CandleStore(database).upsert(SeriesKey("sim", symbol, "1h"), rows_from_frame(frame))
