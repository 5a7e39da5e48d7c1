"""Genomes with alternative-data terms backtest on the stored feature history (here the simulated
features `mt data sim` writes beside its candles), with both engines, one by one and in batches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import MT

SERIES = ["--symbol", "BTC/USDT", "--timeframe", "1h"]
FEAR_BUYER = {
    "name": "fear_buyer",
    "entry": {"<": [{"feature": "fear_greed"}, 30]},
    "exit": {">": [{"feature": "fear_greed"}, 60]},
    "stop_loss": 0.08,
}


@pytest.fixture
def genome_file(tmp_path: Path, mt: MT) -> Path:
    mt.json("data", "sim", "BTC/USDT", "--bars", "2500", "--seed", "3", "--end", "2025-01-01")
    path = tmp_path / "fear.json"
    path.write_text(json.dumps(FEAR_BUYER))
    return path


def test_feature_terms_read_the_stored_features(genome_file: Path, mt: MT) -> None:
    fast = mt.json("backtest", str(genome_file), *SERIES)
    assert fast["trades"] > 0  # NaN features would never signal: the stored series were read
    reference = mt.json("backtest", str(genome_file), *SERIES, "--engine", "reference")
    assert reference["final_equity"] == pytest.approx(fast["final_equity"], rel=1e-9)
    assert reference["trades"] == fast["trades"]


def test_feature_terms_in_a_batch(genome_file: Path, mt: MT, tmp_path: Path) -> None:
    batch = tmp_path / "batch.jsonl"
    batch.write_text(genome_file.read_text() + "\n" + json.dumps({**FEAR_BUYER, "stop_loss": 0.2}) + "\n")
    result = mt("backtest", "--batch", str(batch), *SERIES)
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    single = mt.json("backtest", str(genome_file), *SERIES)
    assert lines[0]["final_equity"] == pytest.approx(single["final_equity"], rel=1e-12)
    assert all(line["trades"] > 0 for line in lines)
