"""Both engines trade whole units of 1e-8 of the asset (backtesting.py's FractionalBacktest). At a price of
1e12 one unit costs 10,000, the whole default cash: positions were rounded to 0 or 1 unit and entries
dropped, so `mt backtest` of sma_cross made 16 trades where the same market at 1e-8 made 35, and
buy-and-hold "returned" 46.10% where the coin rose 42.73% net. The figures were printed as if sound;
now `mt backtest`, `mt validate` and `mt optimize` say so (a warning naming the price and the unit's cost,
`coarse_units` in --json)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mastertrade.engine.backtest.unit_cost import coarse_units
from tests.conftest import MT


def _frame(top: float) -> pd.DataFrame:
    close = np.linspace(top / 2, top, 50)
    return pd.DataFrame({"open": close, "high": close, "low": close, "close": close, "volume": 1.0})


def test_coarse_units() -> None:
    assert coarse_units(_frame(70_000.0), 10_000.0) is None  # BTC: a unit costs 0.0007
    assert coarse_units(_frame(1e-8), 10_000.0) is None
    note = coarse_units(_frame(1.45e12), 10_000.0)
    assert note is not None
    assert note.startswith("at prices up to 1.45e+12 the smallest amount the engines trade")
    assert "costs 14,500, 145% of the cash 10,000" in note
    absurd = coarse_units(_frame(1.05e300), 10_000.0)
    assert absurd is not None and "costs 1.05e+292, 1.05e+288 times the cash 10,000" in absurd


def _import(mt: MT, path: Path, scale: float, symbol: str) -> None:
    rng = np.random.default_rng(1)
    close = scale * np.exp(np.cumsum(rng.normal(0, 0.01, 1500)))
    open_ = np.r_[close[0], close[:-1]]
    start = np.datetime64("2024-01-01T00:00")
    lines = ["timestamp,open,high,low,close,volume"]
    for i, (o, c) in enumerate(zip(open_, close, strict=True)):
        when = start + np.timedelta64(i, "h")
        lines.append(f"{when}:00Z,{o:.17g},{max(o, c) * 1.001:.17g},{min(o, c) * 0.999:.17g},{c:.17g},5")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = mt("data", "import", str(path), "--symbol", symbol, "--timeframe", "1h")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("command", [("backtest",), ("validate",), ("optimize", "--trials", "3")])
def test_the_commands_say_it(mt: MT, tmp_path: Path, command: tuple[str, ...]) -> None:
    _import(mt, tmp_path / "huge.csv", 1e12, "HUGE/USDT")
    _import(mt, tmp_path / "btc.csv", 30_000.0, "BTC/USDT")
    huge = mt(*command, "sma_cross", "--symbol", "HUGE/USDT", "--timeframe", "1h", "--json")
    assert huge.exit_code == 0, huge.stderr
    assert "mt: warning: at prices up to" in huge.stderr and "these figures are distorted" in huge.stderr
    assert json.loads(huge.stdout)["coarse_units"].startswith("at prices up to")
    fine = mt(*command, "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h", "--json")
    assert fine.exit_code == 0 and "mt: warning: at prices" not in fine.stderr
    assert json.loads(fine.stdout)["coarse_units"] is None


def test_prices_so_small_that_no_order_can_be_sized() -> None:
    """At 1e-310 (a CSV can hold it) the count of 1e-8 units the cash buys overflows: `mt backtest` made
    no trade and blamed a position size that "affords no unit of the asset"."""
    note = coarse_units(_frame(1e-310), 10_000.0)
    assert note is not None and note.startswith("at prices down to 5e-311 the count of 1e-8 units")
    assert "no order can be sized" in note
    assert "no order can be sized" in (coarse_units(_frame(1e-320), 10_000.0) or "")  # underflows to 0
    assert coarse_units(_frame(1e-12), 10_000.0) is None
