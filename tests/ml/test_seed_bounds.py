"""A seed past what the generators take is named on the command line, and every seed the options allow
trains. Was: `mt rl train --seed 4294967296` and `mt ml train lstm_transformer --seed 4294967296` (or
`[ml] seed = -1`) ended in numpy's traceback ("Seed must be between 0 and 2**32 - 1"), and a seed near the
top made the walk-forward's later retrainings (seed + k) fail the same way after minutes of training."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import MT

TOP = 2**32 - 1


@pytest.mark.parametrize(
    "args",
    [
        ("ml", "train", "lstm_transformer", "--symbol", "BTC/USDT"),
        ("ml", "train", "lightgbm", "--symbol", "BTC/USDT"),
        ("rl", "train", "--symbol", "BTC/USDT", "--timeframe", "1h"),
    ],
)
def test_a_seed_past_the_generators_range_is_named(mt: MT, args: tuple[str, ...]) -> None:
    result = mt(*args, "--seed", str(TOP + 1))
    assert result.exit_code == 2 and result.stdout == ""
    assert "'--seed'" in result.stderr and f"(got {TOP + 1})" in result.stderr
    assert result.stderr.startswith("mt: error: ") and result.stderr.count("\n") == 1


def test_a_configured_seed_out_of_range_is_named(mt: MT, monkeypatch: pytest.MonkeyPatch) -> None:
    for bad in ("-1", str(TOP + 1)):
        monkeypatch.setenv("MT_ML__SEED", bad)
        result = mt("ml", "train", "lightgbm", "--symbol", "BTC/USDT")
        assert result.exit_code == 2 and "MT_ML__SEED" in result.stderr and bad in result.stderr


def test_the_top_seed_trains_across_retrainings() -> None:
    pytest.importorskip("keras")
    from mastertrade.engine.market.sim import simulate
    from mastertrade.engine.ml.models import ModelConfig
    from mastertrade.engine.ml.walkforward import ForecastSpec, walk_forward

    frame = simulate("BTC/USDT", "1h", 160, seed=3)
    config = ModelConfig(window=4, epochs=1, units=4, heads=1, batch=16)
    spec = ForecastSpec("lstm_transformer", train_bars=60, retrain_every=40, seed=TOP, config=config)
    run = walk_forward(frame, spec, final=True)
    assert len(run.retrains) >= 2 and np.isfinite(run.predictions[run.retrains[-1]])
