"""`mt ml evaluate` scores stored forecasts only against the candles they were made from.

Before: after `mt data sim` replaced the series with another seed's prices, `mt ml evaluate` scored the
forecasts made from the old prices against the new ones and printed a verdict, a hit rate and a
threshold backtest as the model's, without a word."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import MT
from tests.real_prices import as_real

pytest.importorskip("lightgbm")

END = "2026-11-01T00:00:00Z"
TRAIN = ("lightgbm", "--symbol", "BTC/USDT", "--timeframe", "1h", "--train-bars", "60", "--window", "8")


def _sim(mt: MT, seed: int, bars: int = 200) -> None:
    result = mt("data", "sim", "BTC/USDT", "--bars", str(bars), "--seed", str(seed), "--end", END)
    assert result.exit_code == 0, result.stderr


def test_forecasts_of_replaced_candles_are_not_scored(mt: MT) -> None:
    _sim(mt, seed=4)
    trained = mt.json("ml", "train", *TRAIN)
    assert mt("ml", "evaluate", "lightgbm", "--symbol", "BTC/USDT").exit_code == 0
    _sim(mt, seed=5)  # the same bars, another price path
    refused = mt("ml", "evaluate", "lightgbm", "--symbol", "BTC/USDT")
    assert refused.exit_code == 2
    assert refused.stdout == ""
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert lines[0].startswith(
        "mt: error: the stored lightgbm forecasts (horizon 1) of sim:BTC/USDT:1h were made from other candles"
    )
    assert trained["artifact"]["version"] in lines[0]
    assert "train again with `mt ml train lightgbm`" in lines[0]
    mt.json("ml", "train", *TRAIN)  # trained again on these candles: scored again
    assert mt.json("ml", "evaluate", "lightgbm", "--symbol", "BTC/USDT")["judged"] is not None


def test_bars_added_after_the_training_do_not_count_as_a_change(mt: MT, tmp_path: Path) -> None:
    _sim(mt, seed=4, bars=220)
    full, first = tmp_path / "full.csv", tmp_path / "first.csv"
    exported = mt("data", "export", "BTC/USDT", "--timeframe", "1h", "--exchange", "sim", "--out", str(full))
    assert exported.exit_code == 0, exported.stderr
    as_real(full)  # imported under csv below: the simulated prices stand in for an exchange's
    lines = full.read_text().splitlines(keepends=True)
    first.write_text("".join(lines[:201]))  # the header and the first 200 bars
    on_csv = ("--symbol", "BTC/USDT", "--timeframe", "1h", "--exchange", "csv")
    assert mt("data", "import", str(first), *on_csv).exit_code == 0
    mt.json("ml", "train", *TRAIN, "--exchange", "csv")
    imported = mt("data", "import", str(full), *on_csv)
    assert imported.exit_code == 0, imported.stderr  # the same bars again, and 20 newer ones
    report = mt.json("ml", "evaluate", "lightgbm", *on_csv)
    assert report["series"] == "csv:BTC/USDT:1h"
    changed = tmp_path / "changed.csv"
    head, row = lines[0], lines[100].split(",")
    row[4] = repr((float(row[2]) + float(row[3])) / 2)  # one close of the trained bars, written over
    changed.write_text(head + ",".join(row))
    written = mt("data", "import", str(changed), *on_csv)
    assert written.exit_code == 0, written.stderr
    refused = mt("ml", "evaluate", "lightgbm", *on_csv)
    assert refused.exit_code == 2
    assert "were made from other candles" in refused.stderr
