"""A genome file saved with a UTF-8 byte order mark (Notepad and other Windows editors write one) is read:
it was refused with Python's own advice, `invalid JSON at line 1 column 1: Unexpected UTF-8 BOM (decode
using utf-8-sig)`, which a trader cannot act on."""

from __future__ import annotations

import json
from pathlib import Path

from mastertrade.engine.signals.genome import load_genome_file, parse_genome
from tests.conftest import MT
from tests.genome_doc import GENOME

BOM = b"\xef\xbb\xbf"


def test_a_file_with_a_byte_order_mark_is_the_same_genome(tmp_path: Path) -> None:
    named = tmp_path / "named.json"
    named.write_bytes(BOM + json.dumps(GENOME).encode())
    assert load_genome_file(named) == parse_genome(GENOME)
    unnamed = tmp_path / "rsi-dip.json"  # named after the file: the other road through the decoder
    unnamed.write_bytes(BOM + json.dumps({k: v for k, v in GENOME.items() if k != "name"}).encode())
    assert load_genome_file(unnamed).name == "rsi-dip"


def test_mt_reads_it_and_a_batch_file_with_one(mt: MT, tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_bytes(BOM + json.dumps(GENOME, indent=2).encode())
    shown = mt("strategy", "show", str(path), "--json")
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout)["entry"] == {"crosses_above": [{"ind": "rsi", "length": 14}, 30.0]}

    result = mt("data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", "300", "--seed", "3")
    assert result.exit_code == 0, result.stderr
    batch = tmp_path / "batch.jsonl"
    batch.write_bytes(BOM + (json.dumps(GENOME) + "\n" + json.dumps(GENOME) + "\n").encode())
    result = mt("backtest", "--batch", str(batch), "--json")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) == 2  # with --json, one document: the results as an array
