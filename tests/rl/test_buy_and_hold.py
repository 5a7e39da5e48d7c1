"""`mt rl train` compares the policy's hold-out with the buy-and-hold every other report uses: entered by
the engine at the first bar the policy can trade on and held, paying the same fees. Before, it was bought
at the hold-out's second open (a bar before any fill), free of fees, so a policy that held the coin the
whole hold-out was reported with another return than buy-and-hold's."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("skrl")
pytest.importorskip("flax")


def test_rl_hold_out_a_policy_that_always_holds_ties_with_buy_and_hold() -> None:
    from mastertrade.engine.backtest.fast import run_fast
    from mastertrade.engine.generator.trials import Tally
    from mastertrade.engine.rl.train import _evaluate
    from tests.rl.test_ppo import autocorrelated

    frame = autocorrelated(300, 0.0, seed=3)
    always = np.ones(len(frame), dtype=np.bool_)
    evaluation = _evaluate(run_fast(frame, always, ~always), frame, Tally(), None)
    assert evaluation["buy_hold_return_pct"] == pytest.approx(evaluation["return_pct"], abs=1e-4)
    assert not evaluation["beats_buy_hold"]
