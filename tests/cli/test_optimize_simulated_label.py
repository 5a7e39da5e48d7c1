"""`mt optimize` labels simulated data SIMULATED in its table, as every other report does (README:
"Data from the simulated market is labelled SIMULATED wherever it is shown")."""

from __future__ import annotations

from tests.conftest import MT

SERIES = ("--symbol", "BTC/USDT", "--timeframe", "1d")


def test_the_optimisation_table_says_simulated(mt: MT) -> None:
    assert mt("data", "sim", "BTC/USDT", "--timeframe", "1d", "--bars", "400", "--seed", "3").exit_code == 0
    result = mt("optimize", "sma_cross", *SERIES, "--trials", "3", "--seed", "0")
    assert result.exit_code == 0, result.output
    title = result.stdout.split("┏")[0]  # the table's title, however the terminal wraps it
    assert "Optimisation of sma_cross" in title and "SIMULATED" in title, title
