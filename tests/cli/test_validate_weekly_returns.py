"""`mt validate` counts what its deflated Sharpe ratio was measured over in the returns it had: on weekly
bars those are one a week, and "over 300 days" said of six years of bars was wrong by sevenfold."""

from __future__ import annotations

from tests.conftest import MT


def deflated_line(mt: MT, timeframe: str) -> str:
    assert (
        mt("data", "sim", "BTC/USDT", "--timeframe", timeframe, "--bars", "300", "--seed", "3").exit_code == 0
    )
    result = mt("validate", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", timeframe)
    assert result.exit_code == 0, result.output
    return next(line for line in result.stdout.splitlines() if line.startswith("deflated Sharpe"))


def test_weekly_returns_are_not_called_days(mt: MT) -> None:
    line = deflated_line(mt, "1w")
    assert " returns (one a 1w bar)" in line and "days" not in line, line


def test_daily_returns_are_days(mt: MT) -> None:
    line = deflated_line(mt, "1d")
    assert line.endswith(" days") and "one a" not in line, line
