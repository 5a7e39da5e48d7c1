"""`mt optimize --out best.json` then `mt validate best.json`.

The file held the genome alone, so `mt validate best.json` counted 1 trial and reported the bars the
tuning searched as out-of-sample; even the command `mt optimize` suggested (`--start` after the search
window, `--trials N`) deflated with the skill-less V = 1/(T-1), not the variance of the trials' Sharpe
ratios: for the same hold-out bars, optimize said a deflated Sharpe of 0.486 and validate 0.020. Now the
file records its tuning (series, search window, N, V) and `mt validate FILE` starts after the searched
bars and deflates as the tuning did, saying where its N came from; a file without the record reads as
before (1 trial, said to be assumed), with the registry's count as a warning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import Result

from tests.conftest import MT

SIM = ("data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", "3000", "--seed", "5")
END = ("--end", "2026-06-01T00:00Z")
SERIES = ("--symbol", "BTC/USDT", "--timeframe", "1h")


def _said(result: Result) -> str:
    """stderr with its lines joined (rich wraps long lines)."""
    return " ".join(result.stderr.split())


def test_a_tuned_file_is_validated_as_its_tuning_judged_it(mt: MT, tmp_path: Path) -> None:
    assert mt(*SIM, *END).exit_code == 0
    best = tmp_path / "best.json"
    tuned = mt("optimize", "sma_cross", *SERIES, "--trials", "30", "--out", str(best), "--json")
    assert tuned.exit_code == 0, tuned.stderr
    report = json.loads(tuned.stdout)
    judged = report["deflated_trials"]
    assert judged["variance_source"] == "observed" and report["deflated_sharpe"] is not None
    assert f"`mt validate {best}` reports on the bars after them" in _said(tuned)

    checked = mt("validate", str(best), "--json")
    assert checked.exit_code == 0, checked.stderr
    assert "mt: warning" not in checked.stderr
    got = json.loads(checked.stdout)
    assert got["full"]["start"] == report["holdout"]["start"]  # the bars the tuning never searched
    assert got["full"]["end"] == report["holdout"]["end"]
    deflated = got["deflated"]
    assert deflated["trials"] == judged["trials_used"] == 30 and deflated["trials_source"] == "recorded"
    assert deflated["trial_variance"] == judged["variance_used"]
    assert deflated["deflated_sharpe"] == pytest.approx(report["deflated_sharpe"], rel=1e-9)
    assert got["provenance"]["seen_by"] == "tuning" and got["provenance"]["seen_bars"] == 0
    assert got["registry_trials"] is None
    table = mt("validate", str(best))
    assert (
        f"deflated Sharpe {report['deflated_sharpe']:.3f} for 30 trials (what its tuning counted on this"
        f" series, as {best} records)" in " ".join(table.stdout.split())
    )

    # bars the tuning searched are marked, and warned of, as `mt backtest` warns of them
    searched = report["search_window"]
    early = mt("validate", str(best), "--start", searched["start"], "--json")
    assert early.exit_code == 0, early.stderr
    seen = json.loads(early.stdout)
    assert seen["provenance"]["seen_bars"] == searched["bars"]
    assert seen["walk_forward"][0]["seen_by_search"] is True
    assert seen["verdict"].startswith(f"{searched['bars']:,} of these 3,000 bars")
    warning = f"mt: warning: {searched['bars']:,} of these 3,000 bars are ones its tuning chose it on"
    assert warning in _said(early)
    whole = mt("backtest", str(best), "--json")
    assert whole.exit_code == 0 and warning in _said(whole)


def test_a_genome_file_without_a_record_keeps_its_reading(mt: MT, tmp_path: Path) -> None:
    assert mt(*SIM, *END).exit_code == 0
    best = tmp_path / "best.json"
    assert mt("optimize", "sma_cross", *SERIES, "--trials", "6", "--out", str(best)).exit_code == 0
    document = json.loads(best.read_text(encoding="utf-8"))
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({k: v for k, v in document.items() if k != "selection"}), encoding="utf-8")

    checked = mt("validate", str(plain), "--json")
    assert checked.exit_code == 0, checked.stderr
    got = json.loads(checked.stdout)
    assert got["deflated"]["trials"] == 1 and got["deflated"]["trials_source"] == "default"
    assert got["full"]["bars"] == 3000 and "provenance" not in got and got["registry_trials"] == 6
    assert "mt: warning: 6 candidates (mt generate, mt optimize, mt rl train) were scored" in _said(checked)
    table = mt("validate", str(plain))
    assert "1 trial (assumed: no --trials and none recorded)" in " ".join(table.stdout.split())
    declared = mt("validate", str(plain), "--trials", "6", "--json")
    assert declared.exit_code == 0 and "mt: warning" not in declared.stderr

    document["selection"]["deflated_trials"]["trials_used"] = 0  # a record edited into nonsense
    plain.write_text(json.dumps(document), encoding="utf-8")
    bad = mt("validate", str(plain))
    assert bad.exit_code == 2 and bad.stdout == ""
    field = "selection.deflated_trials.trials_used"
    assert bad.stderr == f"mt: error: invalid {plain}: {field} 0: must be a whole number >= 1\n"
