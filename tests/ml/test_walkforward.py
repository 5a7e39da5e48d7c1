"""Walk-forward forecasts: trained on simulated data in seconds, reproducible, and free of lookahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mastertrade.engine.market.sim import simulate
from mastertrade.engine.ml.models import ModelConfig
from mastertrade.engine.ml.walkforward import ForecastSpec, walk_forward

TINY = ModelConfig(window=8, epochs=1, units=8, heads=2, batch=64, trees=20, leaves=7, threads=1)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return simulate("BTC/USDT", "1h", 240, seed=11)


def spec(model: str, seed: int = 5) -> ForecastSpec:
    return ForecastSpec(model, horizon=1, train_bars=100, retrain_every=60, seed=seed, config=TINY)


@pytest.mark.parametrize("model", ["lightgbm", "lstm_transformer"])
def test_same_seed_same_forecasts_and_no_lookahead(frame: pd.DataFrame, model: str) -> None:
    full = walk_forward(frame, spec(model))
    assert len(full.retrains) >= 2
    first = full.retrains[0]
    assert np.isnan(full.predictions[:first]).all()
    assert np.isfinite(full.predictions[first:]).all()
    # Cut just after the second retraining: the bars on both sides of that boundary must not change,
    # although the full run's later models saw more data.
    cut = full.retrains[1] + 3
    truncated = walk_forward(frame.iloc[: cut + 1], spec(model))
    assert truncated.retrains == [r for r in full.retrains if r <= cut]
    np.testing.assert_array_equal(truncated.predictions, full.predictions[: cut + 1])
    if model == "lightgbm":  # (the truncated run above already repeats the LSTM's first models)
        again = walk_forward(frame, spec(model))
        np.testing.assert_array_equal(again.predictions, full.predictions)


def test_another_seed_gives_other_forecasts(frame: pd.DataFrame) -> None:
    one = walk_forward(frame, spec("lightgbm", seed=1))
    two = walk_forward(frame, spec("lightgbm", seed=2))
    assert not np.array_equal(one.predictions, two.predictions, equal_nan=True)


def test_a_model_learns_only_labels_known_at_its_bar(frame: pd.DataFrame) -> None:
    run = walk_forward(
        frame, ForecastSpec("lightgbm", horizon=3, train_bars=100, retrain_every=60, config=TINY)
    )
    assert run.last is not None
    # The last model was trained at its bar from samples whose 3-bar label had closed by then.
    assert run.last.last_sample == run.last.at - 3


def test_future_data_changes_nothing_even_when_it_is_absurd(frame: pd.DataFrame) -> None:
    full = walk_forward(frame, spec("lightgbm"))
    cut = full.retrains[1] + 3
    wild = frame.copy()
    wild.iloc[cut + 1 :, :4] *= 10.0  # a crash-and-boom after the cut
    changed = walk_forward(wild, spec("lightgbm"))
    np.testing.assert_array_equal(changed.predictions[: cut + 1], full.predictions[: cut + 1])
    assert not np.array_equal(changed.predictions[cut + 1 :], full.predictions[cut + 1 :])


def test_a_feature_with_no_training_values_scales_quietly() -> None:
    """Alternative data that starts after the training rows: centred on 0, scale 1, and no numpy
    warning about an empty slice reaches the user's terminal."""
    import warnings

    from mastertrade.engine.ml.windows import Scaler

    rows = np.array([[1.0, np.nan], [3.0, np.nan], [5.0, np.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scaler = Scaler.fit(rows)
    assert scaler.mean.tolist() == [3.0, 0.0]
    assert scaler.scale[1] == 1.0 and scaler.scale[0] == pytest.approx(np.std([1.0, 3.0, 5.0]))
    assert scaler.transform(np.array([[5.0, 7.0]])).tolist()[0][1] == 7.0
