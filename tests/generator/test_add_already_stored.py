"""`mt strategy add` of a strategy stored before names the stored one's state and what it allows. It said
only "already stored (the same logic on the same market)"; a trader who exported a generated strategy
that had failed the filter, to trade it, then tried `mt strategy paper ID` and learnt only there that
failed is final."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import MT

ADD = ("--symbol", "BTC/USDT", "--timeframe", "1h")


def _refusal(mt: MT, *args: str) -> str:
    result = mt("strategy", "add", *args, *ADD)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("mt: error: ") and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def test_the_refusal_names_the_stored_state(mt: MT, tmp_path: Path) -> None:
    result = mt("data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", "400", "--seed", "3")
    assert result.exit_code == 0, result.stderr
    added: dict[str, Any] = mt.json("strategy", "add", "sma_cross", *ADD)
    sid = added["id"]
    said = _refusal(mt, "sma_cross")
    assert f"strategy {sid} is already stored (the same logic on the same market); it is passed:" in said
    assert f"`mt strategy paper {sid}` puts it on paper" in said

    assert mt("strategy", "paper", sid).exit_code == 0
    assert f"; it is paper (see `mt strategy show {sid}`)" in _refusal(mt, "sma_cross")

    assert mt("strategy", "retire", sid).exit_code == 0
    path = tmp_path / "same.json"  # the exported genome: the same logic whatever the file
    path.write_text(json.dumps({**json.loads(mt("strategy", "export", sid).stdout), "name": "again"}))
    said = _refusal(mt, str(path))
    assert f"strategy {sid} is already stored" in said
    assert "it is retired, which is final: it does not trade on this market again" in said

    plugin: dict[str, Any] = mt.json("strategy", "add", "vol_momentum", *ADD)
    said = _refusal(mt, "vol_momentum")
    assert (
        f"strategy {plugin['id']} is already stored (the same plugin on the same market); it is passed"
        in said
    )
