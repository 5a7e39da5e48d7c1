"""`mt rl list` with no policy says so and how to train one (before: an empty table and nothing else),
like `mt ml list`; `--json` stays one document."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import MT


def test_no_policy_yet_is_said_with_how_to_train_one(mt: MT) -> None:
    result = mt("rl", "list")
    assert result.exit_code == 0
    assert "no trained policies yet (train one with `mt rl train --symbol SYMBOL --timeframe TF`)" in (
        result.stderr
    )
    listed = mt("rl", "list", "--json")
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []


def test_only_an_unreadable_policy_is_not_called_no_policy_yet(mt: MT) -> None:
    """Before: "skipped an unreadable policy: ..." and then "no trained policies yet", which it had."""
    from mastertrade.artifacts import ArtifactStore

    def write(folder: Path) -> None:
        (folder / "policy.json").write_text("{}")

    key = {"exchange": "sim", "symbol": "BTC/USDT", "timeframe": "1h"}
    saved = ArtifactStore.default().save("policy", "ppo", key, write, libraries={"numpy": "2.2.6"})
    (saved.path / "manifest.json").write_text("garbage")
    result = mt("rl", "list")
    assert result.exit_code == 0, result.stderr
    assert "skipped an unreadable policy: " in result.stderr
    assert "no trained policies yet" not in result.stderr
    assert (
        "no readable policies (train one with `mt rl train --symbol SYMBOL --timeframe TF`)" in result.stderr
    )
