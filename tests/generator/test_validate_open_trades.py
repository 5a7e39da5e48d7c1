"""`mt validate` counts closed trades; a window or a whole run that ends in a position says so, or a
window shows "0 trades" beside a 47% return."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.conftest import MT


def test_parts_that_end_in_a_position_say_so(mt: MT, tmp_path: Path) -> None:
    rng = np.random.default_rng(6)  # a walk on which sma_cross ends in a position, in its last window too
    close = 100 * np.exp(np.cumsum(rng.normal(0.002, 0.03, 400)))
    open_ = np.r_[100.0, close[:-1]]
    days = np.datetime64("2022-01-01") + np.arange(400)
    lines = ["timestamp,open,high,low,close,volume"]
    lines += [
        f"{day},{o:.4f},{max(o, c) * 1.005:.4f},{min(o, c) * 0.995:.4f},{c:.4f},1"
        for day, o, c in zip(days, open_, close, strict=True)
    ]
    (tmp_path / "up.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    series = ("--symbol", "UP/USDT", "--timeframe", "1d")
    assert mt("data", "import", str(tmp_path / "up.csv"), *series).exit_code == 0

    report = mt.json("validate", "sma_cross", *series)
    plain = mt.json("backtest", "sma_cross", *series)
    assert report["full"]["open_trade"] is plain["open_trade"] is True
    parts = [w["out_of_sample"] for w in report["walk_forward"]] + [
        w["in_sample"] for w in report["walk_forward"]
    ]
    assert all(isinstance(part["open_trade"], bool) for part in parts)
    held = [part for part in parts if part["open_trade"]]
    assert held  # the last window ends in the position the whole run ends in
    assert report["walk_forward"][-1]["out_of_sample"]["open_trade"] is True
    table = mt("validate", "sma_cross", *series)
    assert table.exit_code == 0
    last = next(line for line in table.stdout.splitlines() if line.startswith("│ window 3"))
    assert "(+1 open)" in last
    whole = next(line for line in table.stdout.splitlines() if line.startswith("│ all bars"))
    assert f"{plain['trades']} (+1 open)" in whole
