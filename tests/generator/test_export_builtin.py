"""`mt strategy export NAME` of a built-in writes its genome, the file `mt backtest FILE` takes, instead of
"no stored strategy 'sma_cross': ids are 4 to 16 hex digits"."""

from __future__ import annotations

import json
from pathlib import Path

from mastertrade.engine.signals.builtins import BUILTINS
from tests.conftest import MT


def test_a_builtin_exports_as_the_genome_show_prints(mt: MT, tmp_path: Path) -> None:
    shown = mt.json("strategy", "show", "rsi_reversion")
    printed = mt("strategy", "export", "rsi_reversion")
    assert printed.exit_code == 0, printed.stderr
    assert json.loads(printed.stdout) == shown == BUILTINS["rsi_reversion"].to_dict()

    out = tmp_path / "mine.json"
    written = mt("strategy", "export", "sma_cross", "--out", str(out))
    assert written.exit_code == 0 and written.stdout == ""
    assert json.loads(out.read_text(encoding="utf-8")) == BUILTINS["sma_cross"].to_dict()
    out.write_text("{}\n", encoding="utf-8")  # a file of the user's: kept without --force
    again = mt("strategy", "export", "sma_cross", "--out", str(out))
    assert again.exit_code == 2 and again.stderr.startswith("mt: error: ")
    assert out.read_text(encoding="utf-8") == "{}\n"
    assert mt("strategy", "export", "sma_cross", "--out", str(out), "--force").exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8")) == BUILTINS["sma_cross"].to_dict()
