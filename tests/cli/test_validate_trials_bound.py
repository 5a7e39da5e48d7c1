"""`mt validate --trials` has an upper bound: `--trials 2**63` ended in a StatisticsError traceback from
the deflated Sharpe ratio (its `1 - 1/trials` rounds to 1 past about 10**16); a trillion is accepted."""

from __future__ import annotations

import pytest

from tests.conftest import MT

COMMAND = ["validate", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h"]


@pytest.mark.parametrize("trials", [str(2**63), str(10**30)])
def test_more_trials_than_any_search_tries_is_refused_naming_them(mt: MT, trials: str) -> None:
    sim = mt("data", "sim", "BTC/USDT", "--bars", "2000")
    assert sim.exit_code == 0, sim.stderr
    result = mt(*COMMAND, "--trials", trials)
    assert result.exit_code == 2
    assert result.stderr == f"mt: error: invalid --trials {trials}: at most 1,000,000,000,000\n"


def test_a_trillion_trials_are_counted(mt: MT) -> None:
    sim = mt("data", "sim", "BTC/USDT", "--bars", "2000")
    assert sim.exit_code == 0, sim.stderr
    assert mt.json(*COMMAND, "--trials", str(10**12))["symbol"] == "BTC/USDT"
