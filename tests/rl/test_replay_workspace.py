"""`mt rl train` run by hand in a replay workspace trains and holds out only the bars closed by the
replay's market time (its store holds the bars it has yet to play: a policy held out on them, then put
on paper with the replay's daemon, would trade the very bars it was scored on), and says so on stderr
with the count of stored bars left out (``market_time``, ``after_market_time_bars``)."""

from __future__ import annotations

import json

import pytest

from mastertrade.utc import iso_ms, parse_iso, to_ms
from tests.conftest import MT
from tests.rl.test_model_trading import fixed_training  # noqa: F401  (the fixture, by name)

HOUR = 3_600_000
STORED, PLAYED = 800, 600


@pytest.mark.usefixtures("fixed_training")
def test_rl_train_reads_only_the_bars_the_replay_played(mt: MT, monkeypatch: pytest.MonkeyPatch) -> None:
    result = mt("data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", str(STORED), "--seed", "3")
    assert result.exit_code == 0, result.stderr
    [series] = mt.json("data", "list")
    market_time = to_ms(parse_iso(series["first"])) + PLAYED * HOUR
    monkeypatch.setenv("MT_MARKET__VENUE", "replay")
    monkeypatch.setenv("MT_MARKET__REPLAY_EXCHANGE", "sim")
    monkeypatch.setenv("MT_MARKET__SYMBOLS", '["BTC/USDT"]')
    monkeypatch.setenv("MT_MARKET__REPLAY_START", iso_ms(market_time))
    result = mt("rl", "train", "--symbol", "BTC/USDT", "--timeframe", "1h", "--steps", "64", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["holdout"]["end"] == iso_ms(market_time - HOUR)
    assert doc["training"]["bars"] + doc["holdout"]["bars"] == PLAYED
    assert doc["market_time"] == iso_ms(market_time) and doc["after_market_time_bars"] == STORED - PLAYED
    assert (
        f'BTC/USDT 1h: this workspace is a replay ([market] venue = "replay") at market time'
        f" {iso_ms(market_time)}: trained on only the bars closed by then; the {STORED - PLAYED} stored bars"
        " after it were left out"
    ) in " ".join(result.stderr.split()), result.stderr
