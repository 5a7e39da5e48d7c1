"""A symbol without its slash (`BTCUSDT`, typed or in a genome file) is bad input naming the stored market
it means: research commands said "no candles stored for BTCUSDT 1h: run `mt data download`, `mt data sim`
or `mt data import` first", and each of those refuses BTCUSDT, so the advice led nowhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import MT

MINE = {
    "name": "mine",
    "symbol": "BTCUSDT",
    "timeframe": "1h",
    "entry": {"crosses_above": [{"ind": "rsi", "length": 14}, 30]},
    "exit": {">": [{"ind": "rsi", "length": 14}, 70]},
}


@pytest.fixture
def stored(mt: MT) -> None:
    result = mt("data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", "300", "--seed", "3")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize(
    ("args", "typed", "meant"),
    [
        (("backtest", "sma_cross", "--symbol", "BTCUSDT", "--timeframe", "1h"), "BTCUSDT", "BTC/USDT"),
        (("backtest", "sma_cross", "--symbol", "btcusdt", "--timeframe", "1h"), "btcusdt", "BTC/USDT"),
        (("validate", "sma_cross", "--symbol", "BTCUSDT", "--timeframe", "1h"), "BTCUSDT", "BTC/USDT"),
        (("generate", "--symbol", "BTCUSDT", "--timeframe", "1h"), "BTCUSDT", "BTC/USDT"),
        (("backtest", "sma_cross", "--symbol", "XRPUSDT", "--timeframe", "1h"), "XRPUSDT", "BTC/USDT"),
    ],
)
def test_a_symbol_without_its_slash_is_bad_input(
    mt: MT, stored: None, args: tuple[str, ...], typed: str, meant: str
) -> None:
    result = mt(*args)
    assert result.exit_code == 2, result.output
    assert result.stderr == f"mt: error: invalid symbol {typed!r}: expected BASE/QUOTE, like {meant}\n"


def test_a_genome_file_naming_one_too(mt: MT, stored: None, tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(MINE), encoding="utf-8")
    result = mt("backtest", str(path))
    assert result.exit_code == 2
    assert result.stderr == "mt: error: invalid symbol 'BTCUSDT': expected BASE/QUOTE, like BTC/USDT\n"
    unstored = mt("backtest", "sma_cross", "--symbol", "XRP/USDT", "--timeframe", "1h")
    assert unstored.exit_code == 2 and "no candles stored for XRP/USDT 1h" in unstored.stderr
