"""An error stays one line whatever the value it quotes: a newline, a carriage return, a terminal escape
or a right-to-left override typed in a value is written as its escape. `mt data check BTC/USDT
--exchange $'a\\nb'` printed "no candles stored for BTC/USDT 1h on a" and "b: run `mt data download`..."
on two lines, and a value that the message quotes bare could recolour the terminal."""

from __future__ import annotations

import pytest

from tests.conftest import MT


@pytest.mark.parametrize(
    ("value", "escaped"),
    [("a\nb", "a\\nb"), ("a\rb", "a\\rb"), ("a\x1b[31mb", "a\\x1b[31mb"), ("\u202eab", "\\u202eab")],
)
def test_a_control_character_in_a_value_is_escaped_on_the_one_line(mt: MT, value: str, escaped: str) -> None:
    sim = mt("data", "sim", "BTC/USDT", "--bars", "100")
    assert sim.exit_code == 0, sim.stderr
    result = mt("data", "check", "BTC/USDT", "--timeframe", "1h", "--exchange", value)
    assert result.exit_code == 2
    assert result.stderr.startswith("mt: error: ") and result.stderr.count("\n") == 1
    assert escaped in result.stderr
    assert value not in result.stderr


def test_a_usage_error_quoting_the_value_typed_is_one_line(mt: MT) -> None:
    result = mt("backtest", "--engine", "a\nb")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "(got a\\nb)" in result.stderr
