"""On a replay each bar is forecast by a model trained by then, never by one that saw the bars after it.

A replay's store holds the bars it has yet to play, and its models folder may hold a model trained on them
(trained before the workspace replayed, or by a refit of the whole history). Before, the daemon forecast
every bar the replay closed with the newest stored model, whatever it had been trained on: the forecasts it
stored for the replay, and the signals, forecast terms, paper books and parity reading them, had seen the
future. `mt ml predict` in the replay workspace did the same. Now the model serving market time t is the
newest version trained by t (``engine/ml/serving.py``); with none, no forecast is made, said once."""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pytest

from mastertrade.utc import iso_ms
from tests.conftest import MT
from tests.ml.test_refit_candles_changed import ENDED, HOUR, NAME, _bar, _key
from tests.ml.test_refit_candles_changed import ml as ml  # the [ml] settings of the daemon's services

pytest.importorskip("lightgbm")

BARS = 300
PAST = 150
"""The first model is trained on the bars closed by the close of bar ``PAST - 1`` (index in the store)."""


def _request() -> Any:
    from mastertrade.engine.ml.models import ModelConfig
    from mastertrade.engine.ml.trainer import TrainRequest

    tiny = ModelConfig(window=8, trees=10, leaves=7, threads=1)
    return TrainRequest("lightgbm", "BTC/USDT", "1h", train_bars=60, retrain_every=200, config=tiny)


async def _two_models(database: Any) -> tuple[np.ndarray[Any, Any], str, str]:
    """The stored bars' opens, then the versions of two models of the series: one trained at the close of
    bar ``PAST - 1`` (its walk-forward published the forecasts up to there), then one trained on every
    stored bar (a refit of the whole history, as a workspace holds it before its replay starts)."""
    from mastertrade.engine.generator.store import StrategyStore
    from mastertrade.engine.market.sim import simulate
    from mastertrade.engine.market.store import CandleStore, rows_from_frame
    from mastertrade.engine.ml.trainer import refit, train

    candles = CandleStore(database)
    await candles.upsert(_key(), rows_from_frame(simulate("BTC/USDT", "1h", BARS, 4, ENDED)))
    opens = (await candles.read(_key())).index.as_unit("ms").asi8
    past = await train(database, _request(), strategies=StrategyStore(database), until=int(opens[PAST]))
    future = await refit(database, _request(), strategies=StrategyStore(database))
    assert "forecasts" not in future, future  # a refit: the series is the first model's walk-forward
    return opens, past["artifact"]["version"], future["artifact"]["version"]


async def _stored(database: Any) -> dict[int, float]:
    from mastertrade.engine.collectors.store import FeatureStore

    series = await FeatureStore(database).read("ml_sim", NAME, "BTC/USDT")
    return dict(zip(series.ts.tolist(), series.values.tolist(), strict=True))


def _replay(database: Any, market_time: int) -> Any:
    from mastertrade.engine.kernel.clock import MarketTime
    from mastertrade.engine.market.replay import ReplayVenue
    from tests.ml.test_daemon import _ctx

    ctx = _ctx(database)
    ctx.venue = ReplayVenue(ctx.candles, "sim")
    ctx.market_time = MarketTime()
    ctx.market_time.observe(market_time)
    return ctx


@pytest.mark.usefixtures("ml")
async def test_the_replay_forecasts_with_the_newest_model_trained_by_its_market_time(database: Any) -> None:
    from mastertrade.engine.services.forecasts import ForecastService

    opens, past, future = await _two_models(database)
    bar = int(opens[200])  # after the first model's training, before the second's
    assert bar not in await _stored(database)
    service = ForecastService()
    made = await service.on_bar(_replay(database, bar + HOUR), "sim", "BTC/USDT", "1h", bar)
    assert len(made) == 1 and made[0]["stored"], made
    assert made[0]["version"] == past, (made[0]["version"], past, future)
    assert (await _stored(database))[bar] == made[0]["forecast"]

    # the market passes the second model's training (its last bar closes): that model serves from then on
    await _bar(database, ENDED, 100.0)
    made = await service.on_bar(_replay(database, ENDED + HOUR), "sim", "BTC/USDT", "1h", ENDED)
    assert len(made) == 1 and made[0]["stored"] and made[0]["version"] == future, made


@pytest.mark.usefixtures("ml")
async def test_with_no_model_trained_by_the_market_time_the_forecast_is_left_out_said_once(
    database: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from mastertrade.engine.services.forecasts import ForecastService

    opens, _past, _future = await _two_models(database)
    early = [int(opens[40]), int(opens[41])]  # before the walk-forward's first forecast, before any model
    service = ForecastService()
    with caplog.at_level(logging.WARNING, logger="mastertrade.engine.services.forecasts"):
        for bar in early:
            assert await service.on_bar(_replay(database, bar + HOUR), "sim", "BTC/USDT", "1h", bar) == []
    stored = await _stored(database)
    assert not any(bar in stored for bar in early)
    said = [r.getMessage() for r in caplog.records if "trained by" in r.getMessage()]
    assert len(said) == 1, caplog.text
    at = iso_ms(early[0] + HOUR)
    assert said[0] == (
        f"forecasts: no lightgbm model of sim:BTC/USDT:1h (horizon 1) was trained by {at}: the 2 stored"
        " learnt from bars after it, and a forecast from one would have seen the future; the"
        f" first serves from {iso_ms(int(opens[PAST]))}, or train one on the bars closed by then (`mt ml"
        " train lightgbm` in this workspace, the daemon's ml_retrain job); until one serves, its forecasts"
        " are left out"
    ), said[0]


@pytest.mark.usefixtures("ml")
async def test_a_model_trained_after_the_bar_never_forecasts_it(database: Any) -> None:
    """The one door every forecast goes through refuses a model trained after the bar it forecasts from,
    whoever hands it the model; ``latest_model`` with a market time finds the one that may."""
    from mastertrade.engine.ml.serving import NoModelYet
    from mastertrade.engine.ml.trainer import latest_model, predict_latest

    opens, past, future = await _two_models(database)
    bar = int(opens[200])
    newest = await latest_model("lightgbm", _key(), 1, db=database)
    assert newest.artifact.version == future
    with pytest.raises(NoModelYet, match=f"model {future} was trained at"):
        await predict_latest(database, newest, _key(), at_bar=bar)
    assert bar not in await _stored(database)
    served = await latest_model("lightgbm", _key(), 1, db=database, until=bar + HOUR)
    assert served.artifact.version == past
    # trained at the close of bar PAST - 1: it serves from that close on, not a millisecond before
    at_close = await latest_model("lightgbm", _key(), 1, db=database, until=int(opens[PAST]))
    assert at_close.artifact.version == past
    with pytest.raises(NoModelYet, match="no lightgbm model of sim:BTC/USDT:1h"):
        await latest_model("lightgbm", _key(), 1, db=database, until=int(opens[PAST]) - 1)


def test_mt_ml_predict_in_a_replay_workspace_uses_no_model_trained_after_its_market_time(
    mt: MT, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.ml.test_cli import TRAIN

    end = iso_ms(ENDED)
    assert mt("data", "sim", "BTC/USDT", "--bars", "400", "--seed", "4", "--end", end).exit_code == 0
    whole = mt.json("ml", "train", "lightgbm", *TRAIN, "--seed", "1")  # the whole history, before the replay
    market_time = ENDED - 100 * HOUR
    for name, value in {
        "MT_MARKET__VENUE": "replay",
        "MT_MARKET__REPLAY_EXCHANGE": "sim",
        "MT_MARKET__SYMBOLS": '["BTC/USDT"]',
        "MT_MARKET__REPLAY_START": iso_ms(market_time),
    }.items():
        monkeypatch.setenv(name, value)
    args = ("ml", "predict", "lightgbm", "--symbol", "BTC/USDT", "--timeframe", "1h", "--no-publish")
    refused = mt(*args)
    assert refused.exit_code == 2, (refused.stdout, refused.stderr)
    assert f"no lightgbm model of sim:BTC/USDT:1h (horizon 1) was trained by {iso_ms(market_time)}" in (
        " ".join(refused.stderr.split())
    ), refused.stderr
    assert whole["artifact"]["version"] not in refused.stdout

    replayed = mt.json("ml", "train", "lightgbm", *TRAIN, "--seed", "1")  # trained by the market time
    predicted = mt(*args, "--json")
    assert predicted.exit_code == 0, predicted.stderr
    assert json.loads(predicted.stdout)["version"] == replayed["artifact"]["version"]


def test_on_a_replay_the_version_serving_its_market_time_and_the_newer_ones_are_in_use(tmp_path: Any) -> None:
    """`mt ml delete` keeps the version a strategy's forecasts come from: on a replay the newest trained by
    its market time, which the newest need not be (before, only the newest was kept, and the one serving
    the replay went under a paper strategy reading it)."""
    from pathlib import Path
    from types import SimpleNamespace

    from mastertrade.artifacts import ArtifactStore
    from mastertrade.engine.ml.registry import model_users
    from mastertrade.engine.signals.genome import parse_genome

    store = ArtifactStore(tmp_path / "models")
    key = {"exchange": "sim", "symbol": "BTC/USDT", "timeframe": "1h", "horizon": 1}

    def save(weights: str, trained_at_bar: int) -> Path:
        def write(folder: Path) -> None:
            (folder / "weights.txt").write_text(weights)

        return store.save(
            "forecast",
            "lightgbm",
            key,
            write,
            libraries={"numpy": "2.2.6"},
            features=["ret_1"],
            meta={"trained_at_bar": trained_at_bar},
        ).path

    oldest, serving, newest = save("a", ENDED - 300 * HOUR), save("b", ENDED - 200 * HOUR), save("c", ENDED)
    term = {"feature": "forecast", "model": "lightgbm", "horizon": 1}
    genome = parse_genome({"name": "fc", "entry": {">": [term, 0]}, "exit": {"<": [term, 0]}})
    paper = [
        SimpleNamespace(
            id="b2",
            state="paper",
            plugin=None,
            genome=genome,
            symbol="BTC/USDT",
            timeframe="1h",
            exchange=None,
        )
    ]
    market_time = ENDED - 100 * HOUR
    assert [bool(model_users(store, v, paper, until=market_time)) for v in (oldest, serving, newest)] == [
        False,
        True,  # it serves the replay now
        True,  # it serves once the market time reaches its training
    ]
    # before any version's training, each is in use; outside a replay the newest alone
    assert all(model_users(store, v, paper, until=ENDED - 400 * HOUR) for v in (oldest, serving, newest))
    assert [bool(model_users(store, v, paper)) for v in (oldest, serving, newest)] == [False, False, True]
