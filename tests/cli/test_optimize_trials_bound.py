"""`mt optimize --trials` is at most 100,000 (as many as `[generator] count` stores at most): `--trials
2**63` scored until killed, refused now before anything is read, naming the value."""

from __future__ import annotations

import pytest

from tests.conftest import MT


@pytest.mark.timeout(60)
@pytest.mark.parametrize("trials", [str(2**63), str(10**30), "100001"])
def test_more_trials_than_a_run_scores_are_refused(mt: MT, trials: str) -> None:
    sim = mt("data", "sim", "BTC/USDT", "--bars", "2000")
    assert sim.exit_code == 0, sim.stderr
    result = mt("optimize", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h", "--trials", trials)
    assert result.exit_code == 2
    assert result.stderr == f"mt: error: invalid --trials {trials}: at most 100,000\n"
