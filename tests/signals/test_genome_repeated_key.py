"""A key given twice in a genome's JSON is refused, naming the key and both values. ``json.loads`` kept the
last one without a word: a hand-edited file with a second ``"exit"`` (or ``"stop_loss"``) backtested, was
stored and traded on one of the two, and the other was dropped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mastertrade.engine.signals.genome import load_genome_file, parse_genome_json
from mastertrade.errors import InvalidGenome
from tests.conftest import MT
from tests.genome_doc import GENOME


def _with_extra(text: str) -> str:
    """The genome's JSON with ``text`` added as its last member."""
    return json.dumps(GENOME)[:-1] + ", " + text + "}"


def test_a_top_level_key_given_twice_is_refused() -> None:
    with pytest.raises(
        InvalidGenome, match=r"^f\.json: 'stop_loss' is given twice in one object: keep one of 0\.1 and 0\.5$"
    ):
        parse_genome_json(_with_extra('"stop_loss": 0.5'), source="f.json")


def test_a_key_given_twice_inside_a_term_is_refused() -> None:
    text = json.dumps(GENOME).replace('"length": 14}, 30', '"length": 14, "length": 7}, 30')
    with pytest.raises(InvalidGenome, match=r"'length' is given twice in one object: keep one of 14 and 7"):
        parse_genome_json(text)


def test_a_file_without_a_name_is_checked_too(tmp_path: Path) -> None:
    """The file named after itself takes another road through the decoder: the same refusal."""
    unnamed = {key: value for key, value in GENOME.items() if key != "name"}
    path = tmp_path / "dip.json"
    path.write_text(json.dumps(unnamed)[:-1] + ', "size": 0.5, "size": 1.0}', encoding="utf-8")
    with pytest.raises(InvalidGenome, match=r"dip\.json: 'size' is given twice in one object"):
        load_genome_file(path)


def test_mt_backtest_refuses_the_file_and_the_batch_line(mt: MT, tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(_with_extra('"exit": {"<": [{"ind": "rsi", "length": 14}, 20]}'), encoding="utf-8")
    result = mt("backtest", str(path), "--json")
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith("mt: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "mine.json: 'exit' is given twice in one object" in result.stderr
    assert result.stdout == ""

    batch = tmp_path / "batch.jsonl"
    batch.write_text(json.dumps(GENOME) + "\n" + path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    result = mt("backtest", "--batch", str(batch), "--json")
    assert result.exit_code == 2, result.stderr
    assert "batch.jsonl:2: 'exit' is given twice in one object" in result.stderr
    assert result.stdout == ""
