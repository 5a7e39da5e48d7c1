"""The daemon's forecasts: the ml_retrain job and the forecast made as each bar closes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from mastertrade.utc import iso_ms


class _Run:
    def progress(self, done: float, total: float | None = None, message: str = "") -> None:
        pass


def _ctx(database: Any) -> Any:
    from mastertrade.config import load_settings
    from mastertrade.engine.kernel.clock import SystemClock
    from mastertrade.engine.market.store import CandleStore

    @asynccontextmanager
    async def work(name: str) -> AsyncIterator[None]:
        yield

    return SimpleNamespace(
        settings=load_settings(),
        db=database,
        venue=SimpleNamespace(id="sim"),
        candles=CandleStore(database),
        work=work,
        market_time=SystemClock(),
    )


@pytest.fixture
def ml_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "MT_ML__FORECASTS": '["lightgbm"]',
        "MT_ML__TRAIN_BARS": "150",
        "MT_ML__RETRAIN_EVERY": "80",
        "MT_ML__WINDOW": "8",
        "MT_MARKET__SYMBOLS": '["BTC/USDT"]',
    }.items():
        monkeypatch.setenv(name, value)


async def test_retrain_then_forecast_each_closed_bar(
    database: Any, ml_env: None, caplog: pytest.LogCaptureFixture
) -> None:
    from mastertrade.artifacts import ArtifactStore
    from mastertrade.engine.collectors.store import FeatureStore
    from mastertrade.engine.market.sim import simulate
    from mastertrade.engine.market.store import SeriesKey, rows_from_frame
    from mastertrade.engine.services.forecasts import ForecastService, available, retrain_job
    from mastertrade.engine.signals.forecast_term import series_name

    ctx = _ctx(database)
    key = SeriesKey("sim", "BTC/USDT", "1h")
    await ctx.candles.upsert(key, rows_from_frame(simulate("BTC/USDT", "1h", 400, seed=9)))
    assert available(ctx) is None
    first = await retrain_job(ctx, _Run())  # type: ignore[arg-type]
    assert "error" not in first["models"]["lightgbm BTC/USDT"], first
    name = series_name("lightgbm", 1, "1h", "sim")
    before = await FeatureStore(database).read("ml_sim", name, "BTC/USDT")
    assert len(before) > 100

    frame = await ctx.candles.read(key)
    last = int(frame.index[-1].value // 1_000_000)
    close = float(frame["close"].iloc[-1])
    await ctx.candles.upsert(
        key, [(last + 3_600_000, close, close * 1.01, close * 0.99, close * 1.005, 10.0)]
    )

    service = ForecastService()
    made = await service.on_bar(ctx, "sim", "BTC/USDT", "1h")
    assert len(made) == 1 and made[0]["stored"] and isinstance(made[0]["forecast"], float)
    assert service.last_ms is not None
    after = await FeatureStore(database).read("ml_sim", name, "BTC/USDT")
    assert after.ts[-1] == last + 3_600_000 and after.published_at[-1] == last + 7_200_000
    assert after.values[-1] == made[0]["forecast"]
    # The same bar again: nothing is revised.
    again = await service.on_bar(ctx, "sim", "BTC/USDT", "1h")
    assert not again[0]["stored"] and again[0]["already_stored"]

    # The nightly retrain saves a new model and leaves past forecasts as they were.
    second = await retrain_job(ctx, _Run())  # type: ignore[arg-type]
    assert second["models"]["lightgbm BTC/USDT"]["version"] != first["models"]["lightgbm BTC/USDT"]["version"]
    kept = await FeatureStore(database).read("ml_sim", name, "BTC/USDT")
    np.testing.assert_array_equal(kept.values, after.values)
    assert len(ArtifactStore.default().list()) == 2
    # The service picks the new model up by itself.
    await service.on_bar(ctx, "sim", "BTC/USDT", "1h")
    assert (
        service.loaded[("lightgbm", key)].artifact.version == second["models"]["lightgbm BTC/USDT"]["version"]
    )

    # The newest model changed on disk: an error in the log and no forecast, never the older model.
    newest = service.loaded[("lightgbm", key)].artifact.path
    weights = next(p for p in newest.iterdir() if p.name != "manifest.json" and p.is_file())
    weights.write_bytes(weights.read_bytes() + b" ")
    restarted = ForecastService()  # the daemon started again (or a retrain changed the folder)
    with caplog.at_level(logging.ERROR, logger="mastertrade.engine.services.forecasts"):
        assert await restarted.on_bar(ctx, "sim", "BTC/USDT", "1h") == []
    assert ("lightgbm", key) not in restarted.loaded
    assert any(newest.name in record.getMessage() for record in caplog.records), caplog.text


async def test_job_unavailable_without_models_or_extra(
    database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from mastertrade.engine.services.forecasts import available

    assert available(_ctx(database)) == "no models in [ml] forecasts"
    monkeypatch.setenv("MT_ML__FORECASTS", '["lightgbm"]')
    monkeypatch.setitem(sys.modules, "lightgbm", None)
    assert "pip install 'mastertrade[ml]'" in (available(_ctx(database)) or "")


async def test_on_a_replay_retrain_and_forecast_stop_at_the_market_time(
    database: Any, ml_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replay's store holds the bars it has yet to play: the retraining learned on them, and each
    closed bar's forecast was made from the newest stored bar (the end of the history) instead of the
    bar that closed."""
    from mastertrade.engine.collectors.store import FeatureStore
    from mastertrade.engine.kernel.clock import MarketTime
    from mastertrade.engine.market.replay import ReplayVenue
    from mastertrade.engine.market.sim import simulate
    from mastertrade.engine.market.store import SeriesKey, rows_from_frame
    from mastertrade.engine.services.forecasts import ForecastService, retrain_job
    from mastertrade.engine.signals.forecast_term import series_name

    ctx = _ctx(database)
    key = SeriesKey("sim", "BTC/USDT", "1h")
    await ctx.candles.upsert(key, rows_from_frame(simulate("BTC/USDT", "1h", 600, seed=9)))
    stamps = (await ctx.candles.read(key)).index.as_unit("ms").asi8
    played = int(stamps[399])  # the replay has played 400 bars; 200 more are stored
    ctx.venue = ReplayVenue(ctx.candles, "sim")
    ctx.market_time = MarketTime()
    ctx.market_time.observe(played + 3_600_000)  # the 400th bar's close

    trained = await retrain_job(ctx, _Run())  # type: ignore[arg-type]
    assert "error" not in trained["models"]["lightgbm BTC/USDT"], trained
    name = series_name("lightgbm", 1, "1h", "sim")
    forecasts = await FeatureStore(database).read("ml_sim", name, "BTC/USDT")
    assert len(forecasts) > 100
    assert int(forecasts.ts.max()) <= played  # nothing made of a bar the replay has not played

    made = await ForecastService().on_bar(ctx, "sim", "BTC/USDT", "1h", played)
    assert made[0]["bar"] == iso_ms(played)  # the bar that closed, not the newest stored one


async def test_a_retrain_that_cannot_train_names_the_config_keys(database: Any, ml_env: None) -> None:
    """Was: "sim:BTC/USDT:1h: 60 bars are too few to train with --train-bars 150 and a 8-bar window", in
    the daemon's log and `mt daemon run ml_retrain`: an option of a command the daemon never ran."""
    from mastertrade.engine.market.sim import simulate
    from mastertrade.engine.market.store import SeriesKey, rows_from_frame
    from mastertrade.engine.services.forecasts import retrain_job

    ctx = _ctx(database)
    await ctx.candles.upsert(
        SeriesKey("sim", "BTC/USDT", "1h"), rows_from_frame(simulate("BTC/USDT", "1h", 60, seed=9))
    )
    error = (await retrain_job(ctx, _Run()))["models"]["lightgbm BTC/USDT"]["error"]  # type: ignore[arg-type]
    assert error == (
        "sim:BTC/USDT:1h: 60 bars are too few to train with [ml] train_bars = 150 and [ml] window = 8"
    ), error
    assert "--" not in error
