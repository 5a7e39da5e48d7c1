"""The buy-and-hold that `mt ml evaluate` compares the threshold strategy with is the one every other
report uses: entered by the engine at the first bar a strategy can trade on and held, paying the same
fees. Before, it was bought at the hold-out's first open, free of fees: bars and costs no strategy
could have had."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.conftest import MT

pytest.importorskip("lightgbm")

TRAIN = ("--symbol", "BTC/USDT", "--timeframe", "1h", "--train-bars", "150", "--retrain-every", "80")


def _hold(frame: pd.DataFrame, fee: float = 0.001) -> float:
    from mastertrade.engine.backtest.fast import run_fast

    always = np.ones(len(frame), dtype=np.bool_)
    return float(run_fast(frame, always, ~always, fee=fee).metrics()["return_pct"])


@pytest.fixture
def trained(mt: MT) -> None:
    assert mt("data", "sim", "BTC/USDT", "--bars", "400", "--seed", "4").exit_code == 0
    assert mt("ml", "train", "lightgbm", *TRAIN, "--window", "8", "--json").exit_code == 0


async def test_ml_evaluate_buys_and_holds_from_the_first_tradable_bar_with_fees(
    database: Any, trained: None
) -> None:
    from mastertrade.engine.market.store import CandleStore
    from mastertrade.engine.ml.trainer import evaluate_stored

    report = await evaluate_stored(database, "lightgbm", "BTC/USDT", "1h", None, 1, 0.25, 0.0)
    key = await CandleStore(database).resolve("BTC/USDT", "1h")
    frame = await CandleStore(database).read(key)
    window = frame.loc[pd.Timestamp(report["holdout_start"]) :]
    assert len(window) == report["backtest"]["metrics"]["bars"]
    expected = _hold(window)
    assert report["backtest"]["buy_and_hold_return_pct"] == pytest.approx(expected, abs=1e-9)
    naive = float(window["close"].iloc[-1] / window["open"].iloc[0] - 1) * 100  # the old figure
    assert abs(naive - expected) > 1e-3


def test_a_threshold_strategy_still_in_its_position_at_the_end_says_so(mt: MT) -> None:
    """Before: "0 trades" beside a return equal to buy-and-hold's, a position held all along read as a
    strategy that never traded."""
    assert mt("data", "sim", "BTC/USDT", "--bars", "120", "--seed", "2").exit_code == 0
    train = ("--symbol", "BTC/USDT", "--timeframe", "1h", "--train-bars", "20", "--window", "4")
    assert mt("ml", "train", "lightgbm", *train, "--json").exit_code == 0
    report = mt.json("ml", "evaluate", "lightgbm")
    metrics = report["backtest"]["metrics"]
    assert metrics["open_trade"] is True and metrics["trades"] == 0  # the case this test is about
    shown = mt("ml", "evaluate", "lightgbm")
    assert shown.exit_code == 0, shown.stderr
    assert f"return {metrics['return_pct']:.2f}%, 0 trades (+1 open at its end), buy-and-hold" in shown.stdout
