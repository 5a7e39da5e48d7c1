"""`mt strategy add` prints its whole result on stdout, where a script reads it: the "stored ..." line
was there, but the attached backtest's line went to stderr, so `mt strategy add ... > added.txt` kept
the id and lost the figures. The note on the bars' market time and warnings stay on stderr."""

from __future__ import annotations

from tests.conftest import MT


def test_the_backtest_line_is_on_stdout_with_the_stored_line(mt: MT) -> None:
    simulated = mt("data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", "600", "--seed", "3")
    assert simulated.exit_code == 0, simulated.stderr
    added = mt("strategy", "add", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert added.exit_code == 0, added.output
    [backtest, stored] = added.stdout.splitlines()
    assert backtest.startswith("backtest on ") and "(for reference): return " in backtest
    assert " trades, max drawdown " in backtest
    assert stored.startswith("stored ") and "sma_cross, BTC/USDT 1h): passed;" in stored
    assert "backtest on " not in added.stderr
