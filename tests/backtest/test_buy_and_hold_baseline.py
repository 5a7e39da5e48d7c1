"""`mt backtest` shows buy-and-hold over the same bars, cash and fee, and says plainly when the strategy
did worse: a 128% return means little beside a coin that gained 300%."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import MT


def _import(mt: MT, path: Path, close: np.ndarray, symbol: str = "BTC/USDT") -> None:
    open_ = np.r_[close[0], close[:-1]]
    days = np.datetime64("2022-01-01") + np.arange(len(close))
    lines = ["Date,Open,High,Low,Close,Volume"]
    lines += [
        f"{day}T00:00:00+00:00,{o:.2f},{max(o, c) * 1.01:.2f},{min(o, c) * 0.99:.2f},{c:.2f},5"
        for day, o, c in zip(days, open_, close, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = mt("data", "import", str(path), "--symbol", symbol, "--timeframe", "1d")
    assert result.exit_code == 0, result.stderr


def test_buy_and_hold_is_bought_at_the_first_fill_and_marked_at_the_last_close(
    mt: MT, tmp_path: Path
) -> None:
    rng = np.random.default_rng(5)
    close = 30_000 * np.exp(np.cumsum(rng.normal(0.004, 0.03, 300)))
    _import(mt, tmp_path / "btc.csv", close)
    args = ("--symbol", "BTC/USDT", "--timeframe", "1d", "--fee", "0.002")
    doc = mt.json("backtest", "sma_cross", *args)
    baseline = doc["buy_and_hold"]
    # a signal at the close of bar 1 (the first the engine decides on) fills at bar 2's open, fee on top
    entry = close[1]  # bar 2's open is bar 1's close in this file
    assert baseline["return_pct"] == pytest.approx((close[-1] / (entry * 1.002) - 1) * 100, rel=1e-6)
    assert baseline["bars"] == doc["bars"] and baseline["start"] == doc["start"]
    behind = doc["return_pct"] < baseline["return_pct"] or (doc["sharpe"] or 0) < baseline["sharpe"]
    assert doc["worse_than_buy_and_hold"] is behind
    table = mt("backtest", "sma_cross", *args)
    assert table.exit_code == 0 and "buy-and-hold return" in table.stdout
    said = " ".join(table.stdout.split())
    if behind:
        assert f"it does worse than buy-and-hold over the same bars (return {doc['return_pct']:.2f}%" in said
    else:
        assert "it does worse" not in said


def test_a_coin_that_drops_90_percent(mt: MT, tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    close = 10 * np.exp(np.cumsum(rng.normal(np.log(0.1) / 300, 0.03, 300)))
    _import(mt, tmp_path / "crash.csv", close, symbol="LUNA/USDT")
    args = ("--symbol", "LUNA/USDT", "--timeframe", "1d")
    doc = mt.json("backtest", "sma_cross", *args)
    assert doc["buy_and_hold"]["return_pct"] < -85
    assert doc["return_pct"] > doc["buy_and_hold"]["return_pct"]
    assert doc["worse_than_buy_and_hold"] is (
        doc["sharpe"] is not None and doc["sharpe"] < doc["buy_and_hold"]["sharpe"]
    )
