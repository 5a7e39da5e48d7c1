"""`mt strategy parity FILE --start D` replays a genome file on the market it names, as `mt backtest FILE`
backtests it there; it said "a replay needs --symbol, --timeframe and --start" although the file named
both. A spec that names no market is told which option is missing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import MT

BTC = "BTC/USDT"


def test_a_genome_file_is_replayed_on_its_own_market(mt: MT, tmp_path: Path) -> None:
    result = mt(
        "data", "sim", BTC, "--timeframe", "1h", "--bars", "600", "--seed", "5", "--end", "2026-02-01"
    )
    assert result.exit_code == 0, result.stderr
    genome = json.loads(mt("strategy", "show", "sma_cross", "--json").stdout)
    path = tmp_path / "mine.json"
    path.write_text(
        json.dumps({**genome, "name": "mine", "symbol": BTC, "timeframe": "1h"}), encoding="utf-8"
    )

    own = mt.json("strategy", "parity", str(path), "--start", "2026-01-15")
    told = mt.json(
        "strategy", "parity", "sma_cross", "--symbol", BTC, "--timeframe", "1h", "--start", "2026-01-15"
    )
    assert own["book"] == "replay of sim:BTC/USDT:1h" and own["identical"]
    assert [t["entry_time"] for t in own["trades"]] == [t["entry_time"] for t in told["trades"]]
    assert own["same"] == told["same"] > 0

    for args, missing in (
        ((), "missing --symbol and --timeframe: strategy 'sma_cross' does not name them"),
        (("--symbol", BTC), "missing --timeframe: strategy 'sma_cross' does not name one"),
    ):
        refused = mt("strategy", "parity", "sma_cross", *args, "--start", "2026-01-15")
        assert refused.exit_code == 2 and refused.stdout == ""
        assert refused.stderr == f"mt: error: {missing}\n"
