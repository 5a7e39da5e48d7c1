"""A name longer than any file system holds (over 255 bytes), given as a strategy, a CSV to import or a
file to write, stopped `mt` with an `OSError: [Errno 36] File name too long` traceback (100,000
characters of it for a 100,000-character name). It is bad input now: one line naming it in part, exit 2."""

from __future__ import annotations

import pytest

from tests.conftest import MT

LONG = "z" * 300
SHORTENED = "'" + "z" * 80 + "…' (300 characters)"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("backtest", LONG, "--symbol", "BTC/USDT", "--timeframe", "1h"), f"unknown strategy {SHORTENED}: "),
        (
            ("backtest", LONG + ".json", "--symbol", "BTC/USDT", "--timeframe", "1h"),
            "cannot read genome file '",
        ),
        (
            ("data", "import", LONG, "--symbol", "BTC/USDT", "--timeframe", "1h"),
            f"file name too long for the file system: {SHORTENED}",
        ),
        (
            ("data", "export", "BTC/USDT", "--timeframe", "1h", "--out", LONG),
            f"file name too long for the file system: {SHORTENED}",
        ),
    ],
    ids=["strategy", "genome-file", "import", "export"],
)
def test_a_name_too_long_is_one_line_exit_2(mt: MT, args: tuple[str, ...], said: str) -> None:
    result = mt(*args)
    assert result.exit_code == 2, result.output[-500:]
    assert result.stderr.startswith("mt: error: ") and result.stderr.count("\n") == 1, result.stderr[-500:]
    assert said in result.stderr and "z" * 81 not in result.stderr
