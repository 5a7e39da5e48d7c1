"""`mt ml train` and `mt rl train` say when bars are missing inside the series they train on, as
`mt backtest`, `mt validate` and `mt generate` do: features, labels and windows run across a hole as if
the bars on either side were adjacent. Was: they trained on an imported file with holes without a word."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import MT

pytest.importorskip("lightgbm")

MARKET = ("--symbol", "GAP/USDT", "--timeframe", "1h")
NOTE = "mt: warning: 20 of the 420 bars from the first to the last are missing (1 hole)"


@pytest.fixture
def with_a_hole(mt: MT, tmp_path: Path) -> None:
    from mastertrade.engine.market.sim import simulate

    frame = simulate("GAP/USDT", "1h", 420, seed=6)
    frame = frame.drop(frame.index[200:220])
    path = tmp_path / "gap.csv"
    rows = ["timestamp,open,high,low,close,volume"]
    for ts, bar in zip(frame.index, frame.itertuples(index=False), strict=True):
        values = ",".join(repr(float(v)) for v in (bar.open, bar.high, bar.low, bar.close, bar.volume))
        rows.append(f"{ts.isoformat()},{values}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert mt("data", "import", str(path), *MARKET).exit_code == 0


def test_ml_train_says_bars_are_missing(mt: MT, with_a_hole: None) -> None:
    args = (
        "ml",
        "train",
        "lightgbm",
        *MARKET,
        "--train-bars",
        "150",
        "--retrain-every",
        "80",
        "--window",
        "8",
    )
    summary = mt.json(*args)
    assert summary["missing_bars"] == 20 and summary["missing_note"].startswith(
        NOTE.removeprefix("mt: warning: ")
    )
    text = mt(*args)
    assert text.exit_code == 0 and text.stderr.startswith(NOTE)


def test_rl_train_says_bars_are_missing(mt: MT, with_a_hole: None) -> None:
    pytest.importorskip("skrl")
    pytest.importorskip("flax")
    args = ("rl", "train", *MARKET, "--steps", "64")
    report = mt.json(*args)
    assert report["missing_bars"] == 20 and report["missing_note"].startswith(
        NOTE.removeprefix("mt: warning: ")
    )
    text = mt(*args)
    assert text.exit_code == 0 and NOTE in text.stderr
