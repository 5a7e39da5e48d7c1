"""`mt ml train`, `evaluate` and `predict` run by hand in a replay workspace read only the bars closed by
the replay's market time: its store holds the bars it has yet to play, and a forecast series trained on
them (and published for them) would hand its strategies prices the replayed market has not shown. Each
says so on stderr with the count of stored bars left out (``market_time``, ``after_market_time_bars``)."""

from __future__ import annotations

import json

import pytest

from mastertrade.utc import iso_ms, parse_iso, to_ms
from tests.conftest import MT
from tests.ml.test_cli import TRAIN

HOUR = 3_600_000
STORED, PLAYED = 400, 300


def test_ml_reads_only_the_bars_the_replay_played(mt: MT, monkeypatch: pytest.MonkeyPatch) -> None:
    assert mt("data", "sim", "BTC/USDT", "--bars", str(STORED), "--seed", "4").exit_code == 0
    [series] = mt.json("data", "list")
    market_time = to_ms(parse_iso(series["first"])) + PLAYED * HOUR
    monkeypatch.setenv("MT_MARKET__VENUE", "replay")
    monkeypatch.setenv("MT_MARKET__REPLAY_EXCHANGE", "sim")
    monkeypatch.setenv("MT_MARKET__SYMBOLS", '["BTC/USDT"]')
    monkeypatch.setenv("MT_MARKET__REPLAY_START", iso_ms(market_time))
    last = iso_ms(market_time - HOUR)  # the last bar closed by the market time

    def said(stderr: str, did: str) -> bool:
        return (
            f'sim:BTC/USDT:1h: this workspace is a replay ([market] venue = "replay") at market time'
            f" {iso_ms(market_time)}: {did} only the bars closed by then; the {STORED - PLAYED} stored bars"
            " after it were left out"
        ) in " ".join(stderr.split())

    trained = mt("ml", "train", "lightgbm", *TRAIN, "--seed", "1", "--json")
    assert trained.exit_code == 0, trained.stderr
    doc = json.loads(trained.stdout)
    assert doc["last_forecast"] == last and doc["artifact"]["train_end"] < last
    assert doc["market_time"] == iso_ms(market_time) and doc["after_market_time_bars"] == STORED - PLAYED
    assert said(trained.stderr, "trained on"), trained.stderr

    evaluated = mt("ml", "evaluate", "lightgbm", "--symbol", "BTC/USDT", "--timeframe", "1h", "--json")
    assert evaluated.exit_code == 0, evaluated.stderr
    doc = json.loads(evaluated.stdout)
    assert doc["holdout_end"] == last and doc["after_market_time_bars"] == STORED - PLAYED
    assert said(evaluated.stderr, "evaluated on"), evaluated.stderr

    predicted = mt("ml", "predict", "lightgbm", "--symbol", "BTC/USDT", "--timeframe", "1h", "--json")
    assert predicted.exit_code == 0, predicted.stderr
    doc = json.loads(predicted.stdout)
    assert doc["bar"] == last and doc["published_at"] == iso_ms(market_time)
    assert doc["after_market_time_bars"] == STORED - PLAYED
    assert said(predicted.stderr, "forecast from"), predicted.stderr
