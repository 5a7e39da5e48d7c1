"""``mt generate`` run by hand in a replay workspace stops at the replay's market time, and says so: the
store holds the bars the replay has yet to play, and strategies stored here may go on paper with the
replay's daemon, which would then trade the very bars they were chosen (and held out) on."""

from __future__ import annotations

import json

import pytest

from tests.conftest import MT
from tests.generator.test_universe import SMALL, sim


def test_generate_in_a_replay_workspace_searches_only_the_bars_before_its_market_time(
    mt: MT, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim(mt, "BTC/USDT", "1h", 3000)
    listed = mt.json("data", "list")
    [series] = [row for row in listed if row["symbol"] == "BTC/USDT"]
    first = series["first"]
    from mastertrade.utc import iso_ms, parse_iso, to_ms

    start = iso_ms(to_ms(parse_iso(first)) + 2000 * 3_600_000)  # the replay plays from the 2,001st bar
    monkeypatch.setenv("MT_MARKET__VENUE", "replay")
    monkeypatch.setenv("MT_MARKET__REPLAY_EXCHANGE", "sim")
    monkeypatch.setenv("MT_MARKET__REPLAY_START", start)
    result = mt("generate", "--symbol", "BTC/USDT", "--seed", "1", *SMALL, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)["data"]
    assert data["bars"] == 2000 and data["market_time"] == start
    assert data["after_market_time_bars"] == 1000
    assert data["holdout"]["end"] == iso_ms(to_ms(parse_iso(start)) - 3_600_000)
    assert f'a replay ([market] venue = "replay") at market time {start}' in result.stderr
    assert "the 1,000 stored bars after it were left out" in result.stderr
