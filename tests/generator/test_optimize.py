"""``mt optimize``: Optuna on the search window only, one hold-out score, trials counted in the registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mastertrade.engine.generator.optimize import slots, with_values
from mastertrade.engine.signals.builtins import BUILTINS
from tests.conftest import MT

SIM = (
    "data",
    "sim",
    "BTC-EDGE/USDT",
    "--timeframe",
    "1d",
    "--bars",
    "1200",
    "--seed",
    "11",
    "--end",
    "2025-01-01",
)


def test_slots_and_values_round_trip() -> None:
    data = BUILTINS["rsi_reversion"].to_dict()
    found = slots(data)
    assert found and all(slot.low <= slot.high for slot in found)
    values = {slot.name: slot.high for slot in found}
    changed = with_values(data, values)
    assert {slot.name for slot in slots(changed)} == {slot.name for slot in found}
    assert changed != data


def test_optimize_tunes_on_the_search_window_and_judges_on_the_holdout(mt: MT, tmp_path: Path) -> None:
    assert mt(*SIM).exit_code == 0
    out = tmp_path / "best.json"
    args = ("optimize", "rsi_reversion", "--symbol", "BTC-EDGE/USDT", "--timeframe", "1d", "--trials", "12")
    first = mt.json(*args, "--seed", "1", "--out", str(out))
    assert first["trials"] == 12 and first["distinct_trials"] <= 12
    assert first["search_window"]["bars"] == 900 and first["holdout"]["bars"] == 300
    assert first["search_window"]["end"] < first["holdout"]["start"]
    held = first["best"]["holdout"]
    assert held["window"] == "holdout" and held["start"] == first["holdout"]["start"]
    assert first["verdict"].startswith(("passes", "fails"))
    assert first["deflated_trials"]["trials"] == first["distinct_trials"]
    assert first["pbo"] is None or 0.0 <= first["pbo"]["pbo"] <= 1.0
    # the best genome, backtested from the hold-out's first bar, gives the hold-out figures
    plain = mt.json("backtest", str(out), "--start", held["start"])
    assert plain["sharpe"] == held["sharpe"] and plain["trades"] == held["trades"]
    # a second tuning on the same bars is charged for the first one's trials too
    second = mt.json(*args, "--seed", "2")
    assert second["deflated_trials"]["trials"] == first["distinct_trials"] + second["distinct_trials"]


def test_a_tuning_run_again_counts_only_the_configurations_it_had_not_tried(mt: MT) -> None:
    assert mt(*SIM).exit_code == 0
    args = ("optimize", "rsi_reversion", "--symbol", "BTC-EDGE/USDT", "--timeframe", "1d")
    first = mt.json(*args, "--trials", "8", "--seed", "3")
    counted = first["deflated_trials"]
    assert counted["trials"] == counted["this_run"] == first["distinct_trials"] >= 2
    # the same seed on the same bars scores the same configurations: N stays (before: it doubled)
    again = mt.json(*args, "--trials", "8", "--seed", "3")
    assert again["best"] == first["best"]
    assert again["deflated_trials"]["trials"] == counted["trials"]
    assert again["deflated_trials"]["this_run"] == 0
    assert again["deflated_trials"]["counted_before"] == first["distinct_trials"]
    assert again["deflated_trials"]["variance_used"] == counted["variance_used"]
    assert again["deflated_sharpe"] == first["deflated_sharpe"]
    # more trials with that seed: the first eight again, and only the new ones add
    more = mt.json(*args, "--trials", "12", "--seed", "3")["deflated_trials"]
    assert more["counted_before"] == first["distinct_trials"] and more["this_run"] >= 1
    assert more["trials"] == counted["trials"] + more["this_run"]
    # another seed tries other configurations: they all add
    other = mt.json(*args, "--trials", "8", "--seed", "4")
    assert other["deflated_trials"]["this_run"] == other["distinct_trials"]
    assert other["deflated_trials"]["trials"] == more["trials"] + other["distinct_trials"]


def test_optimize_bad_input(mt: MT) -> None:
    assert mt(*SIM).exit_code == 0
    result = mt(
        "optimize", "rsi_reversion", "--symbol", "BTC-EDGE/USDT", "--timeframe", "1d", "--trials", "0"
    )
    assert result.exit_code == 2 and result.stderr == "mt: error: invalid --trials 0: must be >= 1\n"
    result = mt("optimize", "no_such_thing", "--symbol", "BTC-EDGE/USDT", "--timeframe", "1d")
    assert result.exit_code == 2 and result.stderr.startswith("mt: error: unknown strategy 'no_such_thing'")


def test_optimize_refuses_a_seed_its_sampler_cannot_take_before_any_trial(mt: MT) -> None:
    assert mt(*SIM).exit_code == 0
    args = ("optimize", "rsi_reversion", "--symbol", "BTC-EDGE/USDT", "--timeframe", "1d", "--trials", "2")
    result = mt(*args, "--seed", "4294967296")  # before: a numpy traceback ("Seed must be between ...")
    assert result.exit_code == 2
    refusal = "mt: error: invalid --seed 4294967296: the tuning's sampler takes 0 to 4294967295\n"
    assert result.stderr == refusal
    counted = mt.json(*args, "--seed", "4294967295")["deflated_trials"]  # the largest it takes runs
    assert counted["trials"] == counted["this_run"] >= 1  # the refused run recorded no trial


def test_optimize_out_keeps_a_file_of_yours_and_refuses_a_bad_path_before_any_trial(
    mt: MT, tmp_path: Path
) -> None:
    assert mt(*SIM).exit_code == 0
    args = ("optimize", "rsi_reversion", "--symbol", "BTC-EDGE/USDT", "--timeframe", "1d", "--trials", "3")
    mine = tmp_path / "mine.json"
    mine.write_text('{"name": "mine"}\n', encoding="utf-8")
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    for out, message in (
        (mine, f"mt: error: {mine} exists: pass --force to overwrite it"),
        (tmp_path, f"mt: error: cannot write {str(tmp_path)!r}: it is a folder"),
        (
            tmp_path / "no" / "b.json",
            f"mt: error: cannot write {str(tmp_path / 'no' / 'b.json')!r}: the folder",
        ),
        (afile / "b.json", f"mt: error: cannot write {str(afile / 'b.json')!r}: {str(afile)!r} is a file"),
    ):
        result = mt(*args, "--out", str(out))
        assert result.exit_code == 2 and result.stdout == "", result.stderr
        [line] = result.stderr.strip().splitlines()
        assert line.startswith(message), line
    assert mine.read_text(encoding="utf-8") == '{"name": "mine"}\n'
    # nothing ran: the refused commands added no trial to the registry
    doc = mt.json(*args, "--out", str(mine), "--force")
    assert doc["deflated_trials"]["trials"] == doc["distinct_trials"]
    written = json.loads(mine.read_text(encoding="utf-8"))
    assert written.pop("selection")["deflated_trials"] == doc["deflated_trials"]  # the tuning's record
    assert written == doc["best"]["genome"]
    assert not list(tmp_path.glob(".*partial*"))


def test_optimize_says_when_lookback_bars_leaves_stored_bars_out(
    mt: MT, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert mt(*SIM).exit_code == 0
    monkeypatch.setenv("MT_GENERATOR__LOOKBACK_BARS", "1000")
    args = ("optimize", "rsi_reversion", "--symbol", "BTC-EDGE/USDT", "--timeframe", "1d", "--trials", "3")
    result = mt(*args, "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["data"] == {"bars": 1000, "stored_bars": 1200, "lookback_bars": 1000, "trimmed_bars": 200}
    assert "the older 200 bars were left out" in result.stderr


def test_the_verdict_says_how_much_of_the_hold_out_the_tuned_indicators_warm_up_over(mt: MT) -> None:
    """A tuning that lengthens the indicators leaves fewer hold-out bars to trade on (the hold-out is
    backtested on its own bars); before, "hold-out trades 0 < 10" was all it said, as if the rules never
    fired, while 175 of its 375 bars could carry no signal (in the run that found it)."""
    from mastertrade.engine.signals.genome import Genome, warmup_bars

    # bars ending at a fixed time: the simulation's default end (now) moves the days' boundaries, and with
    # them the tuning's best, from hour to hour
    sim = ("data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", "1500", "--seed", "1")
    assert mt(*sim, "--end", "2025-01-01T00:00:00Z").exit_code == 0
    args = ("optimize", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h", "--trials", "20")
    report = mt.json(*args)
    held, bars = report["best"]["holdout"], report["holdout"]["bars"]
    warmup = warmup_bars(Genome.model_validate(report["best"]["genome"]))
    assert held["warmup_bars"] == warmup and bars == 375
    assert warmup >= bars / 10  # the case this test is about: a warm-up worth a word
    assert report["verdict"].endswith(
        f"; its indicators warm up over the first {warmup} of the hold-out's 375 bars (scored on its own"
        f" bars), leaving {375 - warmup} on which it can signal"
    )
    from mastertrade.engine.generator.optimize import _warmup_note

    assert _warmup_note(37, 375) == ""  # under a tenth: not worth a word
    assert "first 375 of the hold-out's 375 bars" in _warmup_note(400, 375)
