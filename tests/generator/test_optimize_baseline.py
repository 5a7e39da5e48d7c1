"""`mt optimize` judges the tuned strategy against buy-and-hold over the same hold-out bars: a tuning that
"passes the filter" while holding the coin made more says so."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import MT


def test_the_verdict_says_when_the_tuned_strategy_loses_to_buy_and_hold(mt: MT, tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    close = 100 * np.exp(np.cumsum(rng.normal(0.01, 0.02, 400)))  # a coin that rises most days
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

    report = mt.json("optimize", "sma_cross", *series, "--trials", "3")
    baseline = report["holdout_buy_and_hold"]
    first = int((np.datetime64(report["holdout"]["start"][:10]) - days[0]).astype(int))
    # bought at the first fill the engine makes on the hold-out (the open after its second bar's close)
    expected = (close[-1] / (open_[first + 2] * 1.001) - 1) * 100
    assert baseline["return_pct"] == pytest.approx(expected, rel=1e-6)
    assert baseline["start"] == report["holdout"]["start"] and baseline["bars"] == report["holdout"]["bars"]
    held = report["best"]["holdout"]
    assert held["return_pct"] < baseline["return_pct"]
    assert (
        f"it does worse than buy-and-hold over the hold-out (return {held['return_pct']:.2f}% against"
        f" {baseline['return_pct']:.2f}%" in report["verdict"]
    )
    table = mt("optimize", "sma_cross", *series, "--trials", "3")
    assert table.exit_code == 0 and "buy-and-hold, hold-out" in table.stdout
    assert "does worse than buy-and-hold over the hold-out" in " ".join(table.stdout.split())


def test_no_pbo_when_every_trial_earned_the_same(mt: MT, tmp_path: Path) -> None:
    """On a constant price no trial trades: every trial's returns are the same zeros, there is no
    in-sample best to pick, and the tied ranks used to read as a PBO of 1.00 (certain overfitting)."""
    days = np.datetime64("2022-01-01") + np.arange(400)
    lines = ["timestamp,open,high,low,close,volume", *(f"{day},100,100,100,100,1" for day in days)]
    (tmp_path / "flat.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    series = ("--symbol", "FLAT/USDT", "--timeframe", "1d")
    assert mt("data", "import", str(tmp_path / "flat.csv"), *series).exit_code == 0
    report = mt.json("optimize", "sma_cross", *series, "--trials", "2")
    assert report["pbo"] is None
