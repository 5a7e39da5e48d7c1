"""An empty genome file is said to be empty, naming it. `mt backtest empty.json` said "empty.json: invalid
JSON at line 1 column 1: Expecting value", which sent the trader looking for a typo in a file with
nothing in it (an editor that saved nothing, a `>` redirect of a command that failed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import MT


@pytest.mark.parametrize("text", ["", "\n  \n", "\ufeff"])
def test_an_empty_genome_file_is_said_empty(mt: MT, tmp_path: Path, text: str) -> None:
    from mastertrade.engine.signals.genome import load_genome_file
    from mastertrade.errors import UserInputError

    empty = tmp_path / "mine.json"
    empty.write_text(text, encoding="utf-8")
    said = (
        f"genome file {str(empty)!r} is empty: a genome is a JSON object (`mt strategy show sma_cross"
        " --json > FILE` writes one to start from)"
    )
    with pytest.raises(UserInputError) as raised:
        load_genome_file(empty)
    assert str(raised.value) == said
    for command in (("backtest", str(empty)), ("validate", str(empty))):
        result = mt(*command, "--symbol", "BTC/USDT", "--timeframe", "1h")
        assert result.exit_code == 2
        assert result.stderr == f"mt: error: {said}\n"


def test_a_file_with_something_in_it_is_still_read_as_json(tmp_path: Path) -> None:
    from mastertrade.engine.signals.genome import load_genome_file
    from mastertrade.errors import UserInputError

    broken = tmp_path / "mine.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(UserInputError, match="invalid JSON at line 1 column 2"):
        load_genome_file(broken)
