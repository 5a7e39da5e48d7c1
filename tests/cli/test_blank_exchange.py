"""A blank `--exchange` is refused naming it: it was read as no exchange given, so `mt backtest sma_cross
--symbol BTC/USDT --timeframe 1h --exchange ''` said "no candles stored for BTC/USDT 1h: run `mt data
download`..." of a series that is stored, naming neither the option nor the value."""

from __future__ import annotations

import pytest

from tests.conftest import MT

SERIES = ["--symbol", "BTC/USDT", "--timeframe", "1h"]


@pytest.mark.parametrize(
    "command",
    [
        ["data", "check", "BTC/USDT", "--timeframe", "1h"],
        ["backtest", "sma_cross", *SERIES],
        ["validate", "sma_cross", *SERIES],
        ["strategy", "parity", "sma_cross", *SERIES, "--start", "2026-11-01"],
    ],
)
@pytest.mark.parametrize("blank", ["", " "])
def test_a_blank_exchange_is_refused_naming_it(mt: MT, command: list[str], blank: str) -> None:
    sim = mt("data", "sim", "BTC/USDT", "--bars", "300")
    assert sim.exit_code == 0, sim.stderr
    result = mt(*command, "--exchange", blank)
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"mt: error: invalid --exchange {blank!r}: expected an exchange id, like binance or sim\n"
    )
