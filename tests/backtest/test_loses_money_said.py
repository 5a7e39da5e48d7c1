"""A strategy that loses money is said to, even when it lost less than buy-and-hold: `mt backtest` of
sma_cross on a coin that fell 64% printed a return of -14.97% with no sentence at all (only losing to
buy-and-hold was said), and `mt validate` said only "too few trades" of a strategy down 15%. Flat (cash)
is a baseline too."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mastertrade.engine.generator.report import ReportOptions, verdict, versus_cash
from tests.conftest import MT


def _import(mt: MT, path: Path, close: np.ndarray) -> None:
    open_ = np.r_[close[0], close[:-1]]
    start = np.datetime64("2024-01-01T00:00")
    lines = ["timestamp,open,high,low,close,volume"]
    for i, (o, c) in enumerate(zip(open_, close, strict=True)):
        when = start + np.timedelta64(i, "h")
        lines.append(f"{when}:00Z,{o:.6f},{max(o, c) * 1.002:.6f},{min(o, c) * 0.998:.6f},{c:.6f},5")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = mt("data", "import", str(path), "--symbol", "DOWN/USDT", "--timeframe", "1h")
    assert result.exit_code == 0, result.stderr


def test_versus_cash() -> None:
    assert (
        versus_cash({"return_pct": -14.97})
        == "; it loses money (return -14.97%): staying out would have lost nothing"
    )
    assert versus_cash({"return_pct": -0.5}, " over the hold-out").startswith("; it loses money over the")
    assert versus_cash({"return_pct": 0.0}) == "" and versus_cash({"return_pct": None}) == ""


def test_a_backtest_that_loses_less_than_holding_still_says_it_loses(mt: MT, tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    close = 100 * np.exp(np.cumsum(rng.normal(-0.0004, 0.008, 3000)))
    _import(mt, tmp_path / "down.csv", close)
    args = ("sma_cross", "--symbol", "DOWN/USDT", "--timeframe", "1h")
    doc = mt.json("backtest", *args)
    assert (
        doc["buy_and_hold"]["return_pct"] < doc["return_pct"] < 0
    )  # the case: behind cash, ahead of holding
    assert doc["worse_than_cash"] is True
    table = mt("backtest", *args)
    said = " ".join(table.stdout.split())
    assert f"it loses money over the same bars (return {doc['return_pct']:.2f}%)" in said


def test_the_validate_verdict_says_it_whatever_the_branch() -> None:
    report = {
        "full": {"trades": 9, "sharpe": -0.9, "return_pct": -14.73},
        "buy_and_hold": {"sharpe": -3.0, "return_pct": -60.0},
        "deflated": {"deflated_sharpe": None},
        "bootstrap": {},
        "walk_forward": [],
    }
    said = verdict(report, ReportOptions())
    assert said == (
        "too few trades to judge (9 < 10); it loses money (return -14.73%): staying out would have lost"
        " nothing"
    )
    report["full"] = {"trades": 40, "sharpe": -0.9, "return_pct": -14.73}
    said = verdict(report, ReportOptions())
    assert said.startswith("no edge: it loses money over these bars") and said.count("loses money") == 1
