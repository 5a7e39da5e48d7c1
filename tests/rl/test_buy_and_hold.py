"""`mt rl train` compares the policy's hold-out with the buy-and-hold every other report uses: entered by
the engine at the first bar the policy can trade on and held, paying the same fees. Before, it was bought
at the hold-out's second open (a bar before any fill), free of fees, so a policy that held the coin the
whole hold-out was reported with another return than buy-and-hold's."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.conftest import MT

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


def test_rl_train_says_a_position_still_open_at_the_hold_out_end(
    mt: MT, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: a policy that bought and held through the hold-out was shown with "0" trades beside an
    exposure near 100% (`mt backtest` says "0 (+1 open)"), and `--json` did not say the position was open."""
    from mastertrade.engine.signals.model.features import FEATURES
    from mastertrade.engine.signals.model.policy import PolicyWeights

    def always_enter(env: Any, settings: Any, progress: Any = None) -> PolicyWeights:
        sizes = (len(FEATURES), 8, 3)
        return PolicyWeights.from_lists(
            [
                {"kernel": np.zeros((a, b)), "bias": np.array([0.0, 5.0, 0.0]) if b == 3 else np.zeros(b)}
                for a, b in zip(sizes, sizes[1:], strict=False)
            ]
        )

    monkeypatch.setattr("mastertrade.engine.rl.train.train_ppo", always_enter)
    assert mt("data", "sim", "BTC/USDT", "--bars", "320", "--seed", "3").exit_code == 0
    train = ("rl", "train", "--symbol", "BTC/USDT", "--timeframe", "1h", "--steps", "64")
    document = mt.json(*train)
    assert document["holdout"]["trades"] == 0
    assert document["holdout"]["open_trade"] is True
    assert document["in_sample"]["open_trade"] is True
    shown = mt(*train)
    assert shown.exit_code == 0, shown.stderr
    rows = [line for line in shown.stdout.splitlines() if "hold-out" in line and "│" in line]
    assert len(rows) == 1 and "0 (+1 open)" in rows[0], shown.stdout
