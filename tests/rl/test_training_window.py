"""A `[rl] holdout_fraction` that leaves a handful of training bars is refused (exit 2, one line naming
it), not trained on: before, 0.99 of 400 bars trained a policy on 4 bars, all in the features'
warm-up, and stored it."""

from __future__ import annotations

import pytest

from tests.conftest import MT

pytest.importorskip("skrl")
pytest.importorskip("flax")


def test_a_holdout_share_that_leaves_too_few_training_bars_is_refused(
    mt: MT, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mastertrade.locations import locations

    assert mt("data", "sim", "BTC/USDT", "--bars", "400", "--seed", "2").exit_code == 0
    monkeypatch.setenv("MT_RL__HOLDOUT_FRACTION", "0.99")
    result = mt("rl", "train", "--symbol", "BTC/USDT", "--timeframe", "1h", "--steps", "64")
    assert result.exit_code == 2
    assert result.stderr == (
        "mt: error: too few candles to train on: [rl] holdout_fraction 0.99 of 400 bars leaves 4 for"
        " training (need at least 200); it is the share kept for the hold-out: lower it, or store more"
        " candles\n"
    )
    assert not (locations().data_dir / "models" / "policy").exists()
