"""Stored forecasts are read only beside the candles they were made from: `mt backtest`, `mt validate` and
`mt ml predict` refuse forecasts whose candles changed after their training; `mt generate` and the daemon
leave them out, with a warning.

Before: after `mt data sim` replaced the series with another seed's prices, a backtest of a genome reading
the forecast, a generation drawing it and `mt ml predict` ("the series already holds X") read the
forecasts made from the old prices as those of the new ones, without a word."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MT
from tests.real_prices import as_real

pytest.importorskip("lightgbm")

END = "2026-11-01T00:00:00Z"
MARKET = ("--symbol", "BTC/USDT", "--timeframe", "1h")
TRAIN = ("lightgbm", *MARKET, "--train-bars", "60", "--window", "8")
TERM = {"feature": "forecast", "model": "lightgbm", "horizon": 1}
ENDED = 1_793_491_200_000  # 2026-11-01T00:00:00Z
REFUSAL = (
    "mt: error: the stored lightgbm forecasts (horizon 1) of sim:BTC/USDT:1h were made from other candles"
)


def _sim(mt: MT, seed: int, bars: int = 200) -> None:
    result = mt("data", "sim", "BTC/USDT", "--bars", str(bars), "--seed", str(seed), "--end", END)
    assert result.exit_code == 0, result.stderr


def _genome(tmp_path: Path) -> Path:
    path = tmp_path / "reads-forecast.json"
    path.write_text(json.dumps({"name": "fc", "entry": {">": [TERM, 0]}, "exit": {"<": [TERM, 0]}}))
    return path


def _refused(result: Any, version: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(REFUSAL)
    assert version in lines[0] and "train again with `mt ml train lightgbm`" in lines[0]


def test_backtest_and_predict_refuse_forecasts_of_replaced_candles(
    mt: MT, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MT_GENERATOR__WALK_FORWARD_WINDOWS", "2")  # two days of 1h bars each, of 300
    monkeypatch.setenv("MT_GENERATOR__IN_SAMPLE_RATIO", "0.5")
    genome = _genome(tmp_path)
    _sim(mt, seed=4, bars=400)  # enough for a generation's walk-forward windows
    version = mt.json("ml", "train", *TRAIN)["artifact"]["version"]
    before = mt.json("backtest", str(genome), *MARKET, "--json")
    assert before["bars"] == 400
    assert mt.json("ml", "predict", "lightgbm", *MARKET)["already_stored"] is True

    _sim(mt, seed=5, bars=400)  # the same bars, another price path
    _refused(mt("backtest", str(genome), *MARKET), version)
    _refused(mt("ml", "predict", "lightgbm", *MARKET), version)
    generated = mt("generate", *MARKET, "--count", "4", "--seed", "1", "--json")
    assert generated.exit_code == 0, generated.stderr  # the search drew it by itself: left out, and said
    said = [line for line in generated.stderr.splitlines() if "were made from other candles" in line]
    assert len(said) == 1 and said[0].startswith("mt: warning: ") and version in said[0], generated.stderr
    assert said[0].endswith("the search left that forecast out")
    doc = json.loads(generated.stdout)
    assert doc["data"]["feature_terms"] == [] and len(doc["data"]["forecasts_left_out"]) == 1
    _refused(mt("validate", str(genome), *MARKET), version)

    mt.json("ml", "train", *TRAIN)  # trained again on these candles: read again
    assert mt.json("backtest", str(genome), *MARKET, "--json")["bars"] == 400
    assert mt.json("ml", "predict", "lightgbm", *MARKET)["already_stored"] is True


def test_bars_added_after_the_training_change_nothing(mt: MT, tmp_path: Path) -> None:
    _sim(mt, seed=4, bars=220)
    full, first = tmp_path / "full.csv", tmp_path / "first.csv"
    exported = mt("data", "export", "BTC/USDT", "--timeframe", "1h", "--exchange", "sim", "--out", str(full))
    assert exported.exit_code == 0, exported.stderr
    as_real(full)  # imported under csv below: the simulated prices stand in for an exchange's
    lines = full.read_text().splitlines(keepends=True)
    first.write_text("".join(lines[:201]))  # the header and the first 200 bars
    on_csv = (*MARKET, "--exchange", "csv")
    assert mt("data", "import", str(first), *on_csv).exit_code == 0
    mt.json("ml", "train", *TRAIN, "--exchange", "csv")
    assert mt("data", "import", str(full), *on_csv).exit_code == 0  # the same 200 bars, and 20 newer
    genome = _genome(tmp_path)
    assert mt.json("backtest", str(genome), *on_csv, "--json")["bars"] == 220
    made = mt.json("ml", "predict", "lightgbm", *on_csv)
    assert made["stored"] is True and made["already_stored"] is False  # the newest bar, beyond the training


async def test_the_daemon_leaves_out_forecasts_of_replaced_candles(
    database: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The forecasts service stores no forecast in such a series and the nightly generation draws no
    such term: each says why in a warning, and neither raises (a crash of the daemon's service)."""
    from mastertrade.engine.collectors.store import FeatureStore
    from mastertrade.engine.generator.store import StrategyStore
    from mastertrade.engine.generator.terms import feature_pool
    from mastertrade.engine.market.sim import simulate
    from mastertrade.engine.market.store import CandleStore, SeriesKey, rows_from_frame
    from mastertrade.engine.ml.models import ModelConfig
    from mastertrade.engine.ml.trainer import TrainRequest, train
    from mastertrade.engine.services.forecasts import ForecastService
    from mastertrade.errors import UserInputError
    from tests.ml.test_daemon import _ctx

    monkeypatch.setenv("MT_ML__FORECASTS", '["lightgbm"]')
    monkeypatch.setenv("MT_ML__WINDOW", "8")
    key = SeriesKey("sim", "BTC/USDT", "1h")
    candles = CandleStore(database)
    await candles.upsert(key, rows_from_frame(simulate("BTC/USDT", "1h", 200, seed=4, end=ENDED)))
    tiny = ModelConfig(window=8, trees=10, leaves=7, threads=1)
    request = TrainRequest("lightgbm", "BTC/USDT", "1h", train_bars=60, retrain_every=200, config=tiny)
    await train(database, request, strategies=StrategyStore(database))
    assert [term.label for term in (await feature_pool(database, key)).terms] != []

    replaced = simulate("BTC/USDT", "1h", 200, seed=5, end=ENDED)  # the same bars, other prices
    await candles.upsert(key, rows_from_frame(replaced))
    stored = await FeatureStore(database).read("ml_sim", "forecast:lightgbm:h1:1h@sim", "BTC/USDT")
    with pytest.raises(UserInputError, match="were made from other candles"):  # when asked to refuse
        await feature_pool(database, key, stale="refuse")
    caplog.set_level(logging.WARNING)
    pool = await feature_pool(database, key, stale="skip")
    assert pool.terms == () and pool.provider is None
    assert len(pool.stale) == 1 and pool.stale[0].startswith(REFUSAL.removeprefix("mt: error: "))

    service = ForecastService()
    assert await service.on_bar(_ctx(database), "sim", "BTC/USDT", "1h") == []
    assert await service.on_bar(_ctx(database), "sim", "BTC/USDT", "1h") == []
    after = await FeatureStore(database).read("ml_sim", "forecast:lightgbm:h1:1h@sim", "BTC/USDT")
    assert after.ts.tolist() == stored.ts.tolist()  # nothing added beside forecasts of other prices
    said = [r.getMessage() for r in caplog.records if "were made from other candles" in r.getMessage()]
    assert len(said) == 1, said  # the service's, once for its model (the pool says it at info)
