"""`mt optimize --out best.json` then `mt validate best.json`: the validation reported the tuned genome's
walk-forward windows over the very bars its tuning searched as "out-of-sample", with a deflated Sharpe
ratio "for 1 trial (none declared)" while the trial registry held every trial of the tuning. Now
`mt optimize --out` names the command that reports only bars the tuning never saw, with its trial count,
and `mt validate` of a strategy with no declared trials says how many candidates the registry counts on
overlapping bars of the series (``registry_trials`` in --json)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import MT


def test_a_tuned_file_is_not_validated_as_if_fresh(mt: MT, tmp_path: Path) -> None:
    sim = mt("data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", "3000", "--seed", "5")
    assert sim.exit_code == 0, sim.stderr
    args = ("--symbol", "BTC/USDT", "--timeframe", "1h")
    fresh = mt("validate", "sma_cross", *args, "--json")
    assert fresh.exit_code == 0, fresh.stderr
    assert json.loads(fresh.stdout)["registry_trials"] == 0 and "mt: warning" not in fresh.stderr

    best = tmp_path / "best.json"
    tuned = mt("optimize", "sma_cross", *args, "--trials", "6", "--out", str(best), "--json")
    assert tuned.exit_code == 0, tuned.stderr
    report = json.loads(tuned.stdout)
    command = f"`mt validate {best} --start {report['holdout']['start']} --trials 6`"
    assert command in " ".join(tuned.stderr.split())

    checked = mt("validate", str(best), "--json")
    assert checked.exit_code == 0, checked.stderr
    assert json.loads(checked.stdout)["registry_trials"] == 6
    said = " ".join(checked.stderr.split())
    assert "mt: warning: 6 candidates (mt generate, mt optimize, mt rl train) were scored" in said
    declared = mt("validate", str(best), "--trials", "6", "--json")
    assert declared.exit_code == 0 and "mt: warning" not in declared.stderr
