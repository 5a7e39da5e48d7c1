"""``mt strategy show`` and ``mt strategy builtins``."""

from __future__ import annotations

import json
from pathlib import Path

from mastertrade.engine.signals.builtins import BUILTINS
from mastertrade.engine.signals.genome import parse_genome
from tests.conftest import MT


def test_show_json_prints_the_genome_that_parses_back_into_the_same_genome(mt: MT) -> None:
    for name, genome in BUILTINS.items():
        document = mt.json("strategy", "show", name)
        assert parse_genome(document) == genome
        assert document == genome.to_dict()


def test_show_json_output_is_a_file_backtest_accepts(mt: MT, tmp_path: Path) -> None:
    result = mt("strategy", "show", "breakout", "--symbol", "ETH/USDT", "--timeframe", "4h", "--json")
    assert result.exit_code == 0 and result.stderr == ""
    path = tmp_path / "edited.json"
    document = json.loads(result.stdout)
    document["name"] = "my-breakout"
    document["stop_loss"] = 0.07
    path.write_text(json.dumps(document))
    again = mt.json("strategy", "show", str(path))
    assert (again["name"], again["symbol"], again["timeframe"], again["stop_loss"]) == (
        "my-breakout",
        "ETH/USDT",
        "4h",
        0.07,
    )


def test_show_prints_the_rules_in_words_then_the_genome(mt: MT) -> None:
    result = mt("strategy", "show", "sma_cross")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "sma_cross",
        "  enter when SMA(10) crosses above SMA(30)",
        "  exit when SMA(10) crosses below SMA(30)",
        "  no stops; size 100% of equity",
    ]
    assert "fingerprint c6751b47a5a6097b" in lines[4]
    assert json.loads("\n".join(lines[6:])) == BUILTINS["sma_cross"].to_dict()


def test_show_a_plugin(mt: MT) -> None:
    document = mt.json("strategy", "show", "vol_momentum")
    assert document["source"] == "plugin" and document["stop_loss"] == 0.08 and document["size"] == 0.5
    assert document["distribution"].startswith("mastertrade-example-strategy")
    result = mt("strategy", "show", "vol_momentum")
    assert result.exit_code == 0 and "NATR(14)" in result.stdout


def test_builtins_lists_builtins_and_plugins(mt: MT) -> None:
    rows = mt.json("strategy", "builtins")
    assert [row["name"] for row in rows if row["source"] == "builtin"] == list(BUILTINS)
    assert {
        "name": "sma_cross",
        "source": "builtin",
        "distribution": None,
        "description": "enter when SMA(10) crosses above SMA(30); exit when SMA(10) crosses below SMA(30)",
    } in rows
    plugin = next(row for row in rows if row["name"] == "vol_momentum")
    assert plugin["source"] == "plugin" and plugin["distribution"].startswith("mastertrade-example-strategy")
    table = mt("strategy", "builtins")
    assert table.exit_code == 0 and "rsi_reversion" in table.stdout and "vol_momentum" in table.stdout


def test_bad_specs_exit_2_with_one_line(mt: MT, tmp_path: Path) -> None:
    result = mt("strategy", "show", "moonshot", "--json")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("mt: error: unknown strategy 'moonshot': not a built-in (sma_cross, ")
    assert result.stderr.count("\n") == 1

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**BUILTINS["sma_cross"].to_dict(), "size": 3}))
    result = mt("strategy", "show", str(bad))
    assert result.exit_code == 2
    assert result.stderr == f"mt: error: {bad}: size: must be <= 1 (got 3)\n"

    result = mt("strategy", "show", "sma_cross", "--timeframe", "1hour")
    assert result.exit_code == 2
    assert result.stderr.startswith("mt: error: invalid timeframe '1hour': expected a number and a unit")
    assert result.stderr.count("\n") == 1
