"""``mt optimize --start/--end``: the range `mt backtest` and `mt validate` take, read by the same door,
narrows the bars the tuning splits into its search window and hold-out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import MT
from tests.generator.test_optimize import SIM

ARGS = ("optimize", "rsi_reversion", "--symbol", "BTC-EDGE/USDT", "--timeframe", "1d", "--trials", "4")
RANGE = ("--start", "2022-01-01", "--end", "2024-07-01")


def test_optimize_tunes_and_judges_only_the_bars_in_start_end(mt: MT, tmp_path: Path) -> None:
    assert mt(*SIM).exit_code == 0
    out = tmp_path / "best.json"
    doc = mt.json(*ARGS, *RANGE, "--out", str(out))
    days = 365 + 365 + 182  # 2022, 2023 and the first half of 2024
    assert doc["data"]["bars"] == days and doc["data"]["trimmed_bars"] == 0
    assert doc["data"]["range"] == {"start": "2022-01-01T00:00:00Z", "end": "2024-07-01T00:00:00Z"}
    assert doc["search_window"]["start"] == "2022-01-01T00:00:00Z"
    assert doc["holdout"]["end"] == "2024-06-30T00:00:00Z"
    assert doc["search_window"]["bars"] + doc["holdout"]["bars"] == days
    # the best genome, backtested over the hold-out with the same range's end, gives its figures
    held = doc["best"]["holdout"]
    plain = mt.json("backtest", str(out), "--start", held["start"], "--end", "2024-07-01")
    assert plain["sharpe"] == held["sharpe"] and plain["trades"] == held["trades"]
    assert plain["end"] == doc["holdout"]["end"]
    # without a range the tuning takes the whole stored series, as before
    whole = mt.json(*ARGS)
    assert whole["data"]["bars"] == 1200 and "range" not in whole["data"]


def test_optimize_start_end_refused_as_backtest_and_validate_refuse_them(mt: MT) -> None:
    assert mt(*SIM).exit_code == 0
    for dates, message in (
        (("--start", "soon"), "mt: error: invalid --start date 'soon': expected ISO-8601"),
        (("--end", "2024-13-01"), "mt: error: invalid --end date '2024-13-01'"),
        (
            ("--start", "2024-06-01", "--end", "2024-01-01"),
            "mt: error: invalid --end '2024-01-01': it must be after --start '2024-06-01'",
        ),
    ):
        said = set()
        for command in (
            ARGS,
            ("validate", "rsi_reversion", *ARGS[2:6]),
            ("backtest", "rsi_reversion", *ARGS[2:6]),
        ):
            result = mt(*command, *dates)
            assert result.exit_code == 2 and result.stdout == "", (command, result.stderr)
            assert result.stderr.startswith(message), (command, result.stderr)
            said.add(result.stderr)
        assert len(said) == 1  # one reading of the pair, one message
    # a range with no bar in it names the range, like backtest's
    result = mt(*ARGS, "--start", "2030-01-01")
    assert result.exit_code != 0 and "no candles of sim:BTC-EDGE/USDT:1d between 2030-01-01" in result.stderr
    # the genetic search has no range: refused, not ignored
    result = mt(*ARGS[:6], "--evolve", "--start", "2022-01-01")
    assert result.exit_code == 2 and result.stderr.startswith("mt: error: --start 2022-01-01: --evolve")
    # nothing ran: no trial joined the registry
    doc = mt.json(*ARGS)
    assert doc["deflated_trials"]["trials"] == doc["distinct_trials"]


def test_optimize_says_what_lookback_bars_leaves_out_of_the_range(
    mt: MT, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert mt(*SIM).exit_code == 0
    monkeypatch.setenv("MT_GENERATOR__LOOKBACK_BARS", "800")
    result = mt(*ARGS, *RANGE, "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["data"]["bars"] == 800 and doc["data"]["stored_bars"] == 912
    assert doc["data"]["trimmed_bars"] == 112 and doc["holdout"]["end"] == "2024-06-30T00:00:00Z"
    said = " ".join(result.stderr.split())
    assert "tuned on the newest 800 of the 912 bars opening from 2022-01-01T00:00:00Z before" in said
    assert "the older 112 bars were left out" in said
