"""A date given as epoch milliseconds past the year 9999 is bad input naming it: printing it back as a
date (`mt data download --since 99999999999999999999`: "... is in the future") ended in a traceback
("OSError: [Errno 75] Value too large for defined data type")."""

from __future__ import annotations

import pytest

from tests.conftest import MT

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["data", "download", "BTC/USDT", "--since", HUGE], "--since date"),
        (["data", "download", "BTC/USDT", "--since", "2024-01-01", "--until", HUGE], "--until date"),
        (
            ["backtest", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h", "--start", HUGE],
            "--start date",
        ),
        (["data", "delete", "BTC/USDT", "--timeframe", "1h", "--since", HUGE, "--yes"], "--since date"),
    ],
)
def test_epoch_milliseconds_past_the_year_9999_are_refused(
    mt: MT, monkeypatch: pytest.MonkeyPatch, args: list[str], option: str
) -> None:
    monkeypatch.setenv("MT_EXCHANGE__API_URL", "http://127.0.0.1:9")  # nothing listens: never reached
    monkeypatch.setenv("MT_EXCHANGE__MAX_RETRIES", "0")
    result = mt(*args)
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"mt: error: invalid {option} '{HUGE}': as epoch milliseconds it is past the year 9999; give epoch"
        " milliseconds or ISO-8601 like 2024-01-31\n"
    )


def test_the_last_millisecond_of_9999_is_still_a_date(mt: MT) -> None:
    result = mt("data", "download", "BTC/USDT", "--since", "253402300799999")
    assert result.exit_code == 2
    assert "is in the future, no bar has closed" in result.stderr
