"""`mt rl list` with no policy says so and how to train one (before: an empty table and nothing else),
like `mt ml list`; `--json` stays one document."""

from __future__ import annotations

import json

from tests.conftest import MT


def test_no_policy_yet_is_said_with_how_to_train_one(mt: MT) -> None:
    result = mt("rl", "list")
    assert result.exit_code == 0
    assert "no trained policies yet (train one with `mt rl train --symbol SYMBOL --timeframe TF`)" in (
        result.stderr
    )
    listed = mt("rl", "list", "--json")
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []
