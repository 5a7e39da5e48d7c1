"""`mt backtest --batch FILE` given a genome file pretty-printed over many lines (what `mt strategy show
--json` writes), or an array of genomes, says that --batch reads one genome a line. It said
"FILE:1: invalid JSON at line 1 column 2: Expecting property name enclosed in double quotes" (for the
line `{`), or "genome: must be an object" for an array, neither of which said what to do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mastertrade.engine.backtest.batch import read_genomes_jsonl
from mastertrade.errors import InvalidGenome, UserInputError
from tests.conftest import MT
from tests.genome_doc import GENOME


def test_a_pretty_printed_genome_file_is_told_to_use_mt_backtest(mt: MT, tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(GENOME, indent=2), encoding="utf-8")
    result = mt("backtest", "--batch", str(path), "--json")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"mt: error: batch file '{path}' holds one JSON document over ")
    assert f"one genome a line (`mt backtest {path}` backtests a single genome file)" in result.stderr


@pytest.mark.parametrize("indent", [None, 2])
def test_an_array_of_genomes_is_told_how_to_make_json_lines(tmp_path: Path, indent: int | None) -> None:
    path = tmp_path / "many.json"
    path.write_text(json.dumps([GENOME, GENOME], indent=indent), encoding="utf-8")
    with pytest.raises(
        UserInputError, match=r"holds a JSON array.*--batch reads JSON lines, one genome a line"
    ) as told:
        read_genomes_jsonl(path)
    assert f"`jq -c '.[]' {path}`" in str(told.value)


def test_a_bad_line_of_real_json_lines_is_still_named_by_its_number(tmp_path: Path) -> None:
    path = tmp_path / "g.jsonl"
    path.write_text("{not json\n" + json.dumps(GENOME) + "\n", encoding="utf-8")
    with pytest.raises(InvalidGenome, match=f"{path}:1: invalid JSON"):
        read_genomes_jsonl(path)
    path.write_text(json.dumps(GENOME) + "\n[1, 2]\n", encoding="utf-8")
    with pytest.raises(InvalidGenome, match=f"{path}:2: genome: must be an object"):
        read_genomes_jsonl(path)
