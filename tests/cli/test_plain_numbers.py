"""A number typed with an underscore or a character outside ASCII is refused naming it, before the command
runs: Python reads `1_0` as 10 and full-width digits as numbers, so `mt trade buy BTC/USDT 1_0` bought 10
coins where the trader may have meant 1.0."""

from __future__ import annotations

import pytest

from tests.conftest import MT


@pytest.mark.parametrize(
    ("args", "refused"),
    [
        (["trade", "buy", "BTC/USDT", "1_0"], "AMOUNT '1_0'"),
        (["trade", "buy", "BTC/USDT", "0.1", "--type", "limit", "--price", "１００"], "--price '１００'"),
        (["data", "sim", "ETH/USDT", "--bars", "1_000"], "--bars '1_000'"),
        (["data", "sim", "ETH/USDT", "--bars", "١٠٠"], "--bars '١٠٠'"),
    ],
)
def test_an_underscore_or_non_ascii_number_is_refused(mt: MT, args: list[str], refused: str) -> None:
    result = mt(*args)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(f"mt: error: {refused} is not a plain number")
    assert result.stderr.count("\n") == 1
    assert mt.json("data", "list") == []  # nothing written


def test_plain_numbers_still_parse(mt: MT) -> None:
    assert mt("data", "sim", "BTC/USDT", "--bars", "100", "--seed", "3").exit_code == 0
    assert mt.json("data", "list")[0]["rows"] == 100
