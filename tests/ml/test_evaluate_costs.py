"""`mt ml evaluate` backtests its threshold strategy with the trader's `[backtest]` fee and cash, so its
hold-out figure is what `mt backtest` of the same genome over the same bars says (before: always the
engine's 0.1% fee and 10,000 cash, whatever the config)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import MT

pytest.importorskip("lightgbm")

MARKET = ("--symbol", "BTC/USDT", "--timeframe", "1h")


def test_the_threshold_strategy_pays_the_configured_fee(
    mt: MT, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MT_BACKTEST__FEE", "0.005")
    monkeypatch.setenv("MT_BACKTEST__CASH", "2500")
    assert mt("data", "sim", "BTC/USDT", "--bars", "400", "--seed", "4").exit_code == 0
    train = ("--train-bars", "150", "--retrain-every", "80", "--window", "8")
    assert mt("ml", "train", "lightgbm", *MARKET, *train, "--json").exit_code == 0
    report = mt.json("ml", "evaluate", "lightgbm", *MARKET)
    metrics = report["backtest"]["metrics"]
    assert metrics["trades"] > 0

    genome = tmp_path / "threshold.json"
    genome.write_text(json.dumps(report["backtest"]["genome"]), encoding="utf-8")
    plain = mt.json("backtest", str(genome), *MARKET, "--start", report["holdout_start"])
    assert plain["fee"] == 0.005 and plain["bars"] == metrics["bars"]
    assert metrics["final_equity"] == pytest.approx(plain["final_equity"], rel=1e-12)
    assert metrics["return_pct"] == pytest.approx(plain["return_pct"], rel=1e-12)
