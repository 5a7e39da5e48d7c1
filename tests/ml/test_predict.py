"""`mt ml predict` on a bar whose forecast the walk-forward already stored shows the stored value, the one
strategies read, beside its own (before: only its own, made by another model than the stored one, with
"the series already holds this bar's forecast")."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import MT

pytest.importorskip("lightgbm")

MARKET = ("--symbol", "BTC/USDT", "--timeframe", "1h")


def _stored_last() -> tuple[int, float]:
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database
    from mastertrade.engine.collectors.store import FeatureStore

    async def read() -> tuple[int, float]:
        db = await Database.open(load_settings())
        try:
            series = await FeatureStore(db).read("ml_sim", "forecast:lightgbm:h1:1h@sim", "BTC/USDT")
            return int(series.ts[-1]), float(series.values[-1])
        finally:
            await db.close()

    return asyncio.run(read())


def test_predict_shows_the_value_the_series_holds_for_the_bar(mt: MT) -> None:
    from mastertrade.utc import iso_ms

    assert mt("data", "sim", "BTC/USDT", "--bars", "400", "--seed", "4").exit_code == 0
    train = ("--train-bars", "150", "--retrain-every", "80", "--window", "8")
    assert mt("ml", "train", "lightgbm", *MARKET, *train, "--json").exit_code == 0
    bar, value = _stored_last()

    result = mt.json("ml", "predict", "lightgbm", *MARKET)
    assert result["bar"] == iso_ms(bar) and result["already_stored"] and not result["stored"]
    assert result["series_value"] == value
    assert result["forecast"] != value  # the final model is not the one that made the stored forecast
    text = mt("ml", "predict", "lightgbm", *MARKET)
    assert f"the series already holds {value:+.5f} for this bar, the value strategies read" in text.stdout
