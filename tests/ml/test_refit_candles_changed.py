"""What the daemon does with forecasts whose candles changed: the nightly refit trains them again (or
says why it cannot), a rewrite of bars newer than the training is caught too, and signal alerts say it
once.

Before: the `ml_retrain` refit kept a series made from other prices and scored it against the new
candles (a verdict of forecasts that never saw them), storing no new series, so the daemon stayed stale;
forecasts added after the training (one per new bar) recorded nothing, so rewriting those newer bars went
unnoticed; and signal alerts on such a forecast never warned at all (the provider said it at info, every
bar)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

pytest.importorskip("lightgbm")

ENDED = 1_793_491_200_000  # 2026-11-01T00:00:00Z
HOUR = 3_600_000
NAME = "forecast:lightgbm:h1:1h@sim"
CHANGED = "the stored lightgbm forecasts (horizon 1) of sim:BTC/USDT:1h were made from other candles"
TERM = {"feature": "forecast", "model": "lightgbm", "horizon": 1}


@pytest.fixture
def ml(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "MT_ML__FORECASTS": '["lightgbm"]',
        "MT_ML__TRAIN_BARS": "60",
        "MT_ML__RETRAIN_EVERY": "200",
        "MT_ML__WINDOW": "8",
        "MT_MARKET__SYMBOLS": '["BTC/USDT"]',
    }.items():
        monkeypatch.setenv(name, value)


def _key() -> Any:
    from mastertrade.engine.market.store import SeriesKey

    return SeriesKey("sim", "BTC/USDT", "1h")


async def _candles(database: Any, seed: int, bars: int = 200) -> None:
    from mastertrade.engine.market.sim import simulate
    from mastertrade.engine.market.store import CandleStore, rows_from_frame

    await CandleStore(database).upsert(_key(), rows_from_frame(simulate("BTC/USDT", "1h", bars, seed, ENDED)))


async def _bar(database: Any, ts: int, close: float) -> None:
    from mastertrade.engine.market.store import CandleStore

    await CandleStore(database).upsert(_key(), [(ts, close, close * 1.01, close * 0.99, close, 10.0)])


async def _train(database: Any) -> None:
    from mastertrade.engine.generator.store import StrategyStore
    from mastertrade.engine.ml.models import ModelConfig
    from mastertrade.engine.ml.trainer import TrainRequest, train

    tiny = ModelConfig(window=8, trees=10, leaves=7, threads=1)
    request = TrainRequest("lightgbm", "BTC/USDT", "1h", train_bars=60, retrain_every=200, config=tiny)
    await train(database, request, strategies=StrategyStore(database))


async def _stale(database: Any) -> str | None:
    from mastertrade.engine.collectors.forecast_candles import stale

    return await stale(database, "lightgbm", _key(), 1)


async def _series(database: Any) -> Any:
    from mastertrade.engine.collectors.store import FeatureStore

    return await FeatureStore(database).read("ml_sim", NAME, "BTC/USDT")


async def test_the_nightly_refit_trains_again_from_changed_candles(database: Any, ml: None) -> None:
    from mastertrade.artifacts import ArtifactStore
    from mastertrade.engine.services.forecasts import ForecastService, retrain_job
    from tests.ml.test_daemon import _ctx, _Run

    ctx = _ctx(database)
    await _candles(database, seed=9)
    first = (await retrain_job(ctx, _Run()))["models"]["lightgbm BTC/USDT"]  # type: ignore[arg-type]
    assert "error" not in first and "candles_changed" not in first, first
    before = await _series(database)

    await _candles(database, seed=10)  # `mt data sim` again: the same bars, another price path
    assert (await _stale(database) or "").startswith(CHANGED)
    second = (await retrain_job(ctx, _Run()))["models"]["lightgbm BTC/USDT"]  # type: ignore[arg-type]
    assert "error" not in second, second
    assert second["candles_changed"].startswith(CHANGED) and first["version"] in second["candles_changed"]
    after = await _series(database)
    assert after.ts.tolist() == before.ts.tolist() and not np.array_equal(after.values, before.values)
    assert await _stale(database) is None  # made from these candles: read again
    from mastertrade.engine.collectors.forecast_candles import artifact_key

    newest = ArtifactStore.default().versions("forecast", "lightgbm", artifact_key(_key(), 1))[-1]
    assert newest.version == second["version"] and "series" in newest.meta  # the series it stored

    # the daemon is current again: the next bar's forecast is stored
    await _bar(database, ENDED, 100.0)
    made = await ForecastService().on_bar(ctx, "sim", "BTC/USDT", "1h")
    assert len(made) == 1 and made[0]["stored"], made


async def test_the_refit_does_not_rewrite_what_a_trading_strategy_read(database: Any, ml: None) -> None:
    """A strategy on paper traded on the old forecasts: the refit trains nothing and says what to do."""
    from mastertrade.artifacts import ArtifactStore
    from mastertrade.config import load_settings
    from mastertrade.engine.collectors.forecast_candles import CandlesChanged
    from mastertrade.engine.ml.trainer import refit
    from mastertrade.engine.services.forecasts import request_for
    from mastertrade.engine.signals.genome import parse_genome

    genome = parse_genome({"name": "fc", "entry": {">": [TERM, 0]}, "exit": {"<": [TERM, 0]}})
    paper = SimpleNamespace(
        id="5e1f",
        state="paper",
        plugin=None,
        timeframe="1h",
        exchange="sim",
        symbol="BTC/USDT",
        genome=genome,
    )

    class Strategies:
        async def list(self, *, states: Any, timeframe: str) -> list[Any]:
            return [paper]

        async def locked(self, conn: Any, *, timeframe: str) -> list[Any]:
            return [paper]

    await _candles(database, seed=9)
    await _train(database)
    await _candles(database, seed=10)
    before, versions = await _series(database), len(ArtifactStore.default().list())
    request = request_for(load_settings(), "lightgbm", "BTC/USDT", "sim")
    with pytest.raises(CandlesChanged) as refused:
        await refit(database, request, strategies=Strategies())
    message = str(refused.value)
    assert message.startswith(CHANGED) and "train again with `mt ml train lightgbm`" in message
    assert "strategy 5e1f (paper) reads the series" in message and "`mt strategy retire ID`" in message
    assert len(ArtifactStore.default().list()) == versions  # nothing trained
    np.testing.assert_array_equal((await _series(database)).values, before.values)


async def test_a_rewrite_of_bars_a_forecast_added_after_the_training_read_is_caught(database: Any) -> None:
    from mastertrade.engine.generator.terms import feature_pool
    from mastertrade.engine.ml.trainer import latest_model, predict_latest
    from mastertrade.errors import UserInputError

    await _candles(database, seed=4)
    await _train(database)
    loaded = await latest_model("lightgbm", _key(), 1, db=database)
    for i in range(3):  # the daemon's forecast of each new bar
        await _bar(database, ENDED + i * HOUR, 100.0 + i)
        assert (await predict_latest(database, loaded, _key()))["stored"]
    await _bar(database, ENDED + 3 * HOUR, 104.0)  # a newer bar no forecast read yet
    await _bar(database, ENDED + 3 * HOUR, 105.0)  # written over: no forecast read it, nothing changes
    assert await _stale(database) is None
    await _bar(database, ENDED + 4 * HOUR, 106.0)
    assert (await predict_latest(database, loaded, _key()))["stored"]  # read bars +3h and +4h
    assert await _stale(database) is None  # newer bars never rewritten are fine

    await _bar(database, ENDED + 3 * HOUR, 99.0)  # a bar the forecast of +4h read, imported over
    reason = await _stale(database)
    assert reason is not None and reason.startswith(CHANGED), reason
    assert "forecast of 2026-11-01T04:00:00Z, added after model" in reason
    with pytest.raises(UserInputError, match="were made from other candles"):
        await feature_pool(database, _key(), stale="refuse")
    with pytest.raises(UserInputError, match="were made from other candles"):
        await predict_latest(database, loaded, _key())

    await _train(database)  # trained again on these candles: the records of the old series go with it
    assert await _stale(database) is None


async def test_signal_alerts_warn_once_per_model_version(
    database: Any, ml: None, caplog: pytest.LogCaptureFixture
) -> None:
    from mastertrade.engine.alerts.signal_rule import SignalRule
    from mastertrade.engine.alerts.signal_watch import watch_signals
    from mastertrade.engine.candle import Candle
    from mastertrade.engine.events import CandleClosed
    from tests.ml.test_daemon import _ctx

    await _candles(database, seed=4)
    await _train(database)
    await _candles(database, seed=5)  # the same bars, other prices
    closed = [
        CandleClosed(
            venue="sim",
            symbol="BTC/USDT",
            timeframe="1h",
            candle=Candle(ENDED - n * HOUR, 1.0, 1.0, 1.0, 1.0),
            simulated=True,
        )
        for n in (3, 2, 1)
    ]

    class Subscription:
        async def __aenter__(self) -> Subscription:
            return self

        async def __aexit__(self, *exc: object) -> None:
            return None

        async def __aiter__(self) -> AsyncIterator[CandleClosed]:
            for event in closed:
                yield event

    ctx = _ctx(database)
    ctx.bus = SimpleNamespace(subscribe=lambda *a, **k: Subscription(), publish=lambda event: None)
    ctx.alerts = SimpleNamespace(
        rules=SimpleNamespace(rules=[SignalRule(when={">": [TERM, 0]}, symbol="BTC/USDT", timeframe="1h")])
    )
    caplog.set_level(logging.WARNING)
    await watch_signals(ctx)
    said = [r.getMessage() for r in caplog.records if CHANGED in r.getMessage()]
    assert len(said) == 1, said
    assert said[0].startswith(f"signal alerts: {CHANGED}")
