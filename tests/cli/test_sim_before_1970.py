"""`mt data sim` refuses a history that would start before 1970-01-01, naming the value, before anything
is written: `--end 0001-01-01` stored 300 bars of the year 0 and their features and then failed on a
pandas OverflowError traceback, and `--bars 5000000 --timeframe 1w` failed inside the simulation's random
draws (ValueError: lam value too large)."""

from __future__ import annotations

import pytest

from tests.conftest import MT


@pytest.mark.parametrize(
    ("args", "refused"),
    [
        (["--end", "0001-01-01", "--bars", "300"], "invalid --end '0001-01-01': 300 bars of 1h ending"),
        (["--bars", "5000000", "--timeframe", "1w"], "invalid --bars 5000000: 5,000,000 bars of 1w ending"),
    ],
)
def test_a_history_before_1970_is_refused_and_nothing_written(mt: MT, args: list[str], refused: str) -> None:
    result = mt("data", "sim", "BTC/USDT", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"mt: error: {refused}")
    assert "would start before 1970-01-01" in result.stderr and result.stderr.count("\n") == 1
    assert mt.json("data", "list") == []


def test_a_history_from_1973_is_simulated(mt: MT) -> None:
    document = mt.json("data", "sim", "BTC/USDT", "--bars", "2800", "--timeframe", "1w")
    assert document[0]["first"] > "1970"
