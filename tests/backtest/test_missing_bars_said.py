"""A series with holes in it (an import with 113 of 2,000 hourly bars missing) was backtested, validated and
tuned without a word: indicators and walk-forward windows run across a hole as if its two sides were
adjacent bars, and only `mt data check` would have shown it. `mt backtest`, `mt validate` and
`mt optimize` now say how many bars are missing (``missing_bars`` in --json) when it is at least 1%."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mastertrade.engine.market.missing import missing_bars, missing_note
from tests.conftest import MT

HOUR = 3_600_000


def _frame(stamps: list[int]) -> pd.DataFrame:
    index = pd.to_datetime(stamps, unit="ms", utc=True)
    return pd.DataFrame({"open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0, "volume": 1.0}, index=index)


def test_missing_bars() -> None:
    whole = [i * HOUR for i in range(200)]
    assert missing_bars(_frame(whole), "1h") == (0, 0)
    holed = whole[:50] + whole[150:160] + whole[165:]
    assert missing_bars(_frame(holed), "1h") == (105, 2)
    note = missing_note(_frame(holed), "1h", "BTC/USDT")
    assert note is not None and note.startswith("105 of the 200 bars from the first to the last are missing")
    assert "`mt data check BTC/USDT --timeframe 1h`" in note
    assert missing_note(_frame(whole[:100] + whole[101:]), "1h", "BTC/USDT") is None  # 1 of 200: below 1%


def _import(mt: MT, path: Path, symbol: str, hole: bool) -> None:
    rng = np.random.default_rng(2)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 2000)))
    open_ = np.r_[close[0], close[:-1]]
    start = np.datetime64("2024-01-01T00:00")
    lines = ["timestamp,open,high,low,close,volume"]
    for i, (o, c) in enumerate(zip(open_, close, strict=True)):
        if hole and 600 <= i < 700:
            continue
        when = start + np.timedelta64(i, "h")
        lines.append(f"{when}:00Z,{o:.6f},{max(o, c) * 1.001:.6f},{min(o, c) * 0.999:.6f},{c:.6f},5")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = mt("data", "import", str(path), "--symbol", symbol, "--timeframe", "1h")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("command", [("backtest",), ("validate",), ("optimize", "--trials", "3")])
def test_the_commands_say_it(mt: MT, tmp_path: Path, command: tuple[str, ...]) -> None:
    _import(mt, tmp_path / "holed.csv", "HOLE/USDT", hole=True)
    _import(mt, tmp_path / "whole.csv", "WHOLE/USDT", hole=False)
    holed = mt(*command, "sma_cross", "--symbol", "HOLE/USDT", "--timeframe", "1h", "--json")
    assert holed.exit_code == 0, holed.stderr
    assert json.loads(holed.stdout)["missing_bars"] == 100
    assert "mt: warning: 100 of the 2,000 bars from the first to the last are missing" in " ".join(
        holed.stderr.split()
    )
    whole = mt(*command, "sma_cross", "--symbol", "WHOLE/USDT", "--timeframe", "1h", "--json")
    assert whole.exit_code == 0 and "are missing" not in whole.stderr
    assert json.loads(whole.stdout)["missing_bars"] == 0


def test_generate_says_it_too(mt: MT, tmp_path: Path) -> None:
    _import(mt, tmp_path / "holed.csv", "HOLE/USDT", hole=True)
    args = ("--symbol", "HOLE/USDT", "--timeframe", "1h", "--count", "1", "--population", "10")
    result = mt("generate", *args, "--generations", "1", "--seed", "1", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)["data"]
    assert data["missing_bars"] == 100 and data["missing_note"].startswith("100 of the 2,000 bars")
    assert data["coarse_units"] is None
    assert "mt: warning: 100 of the 2,000 bars" in " ".join(result.stderr.split())
