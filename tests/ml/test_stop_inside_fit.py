"""Ctrl-C stops a training inside a model's fit, not only between retrainings.

Was: `mt ml train lstm_transformer --epochs 100000` ignored Ctrl-C for good (the check ran only
between retrainings, and one fit never ended), and a fit of the default size held a Ctrl-C (or a
daemon stopping its nightly refit) for the whole fit."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mastertrade.engine.ml.models import ModelConfig, model_class
from mastertrade.engine.ml.stoppable import Stopped

pytest.importorskip("lightgbm")

TINY = ModelConfig(window=4, epochs=1, units=4, heads=1, batch=16, trees=20, leaves=7, threads=1)
ENDLESS = {"lstm_transformer": replace(TINY, epochs=10**9), "lightgbm": replace(TINY, trees=10**9)}


def samples(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(64, TINY.window, 3)).astype(np.float32), rng.normal(size=64) * 0.01


@pytest.mark.parametrize("name", ["lightgbm", "lstm_transformer"])
def test_a_fit_that_would_never_end_stops_at_the_check(name: str) -> None:
    calls = 0

    def check() -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise Stopped("the training was cancelled")

    model = model_class(name)(3, ENDLESS[name], seed=0)
    with pytest.raises(Stopped):
        model.fit(*samples(1), check=check)
    assert calls == 3


def test_a_stopped_fit_leaves_the_other_models_of_the_thread_as_they_were() -> None:
    """The LSTM shares one compiled network per thread and shape: a fit stopped half-way must not leave
    its weights in place of those of the model that held the network before (the daemon's threads
    forecast with it afterwards)."""
    x, y = samples(2)
    held = model_class("lstm_transformer")(3, TINY, seed=0)
    held.fit(x, y)
    expected = held.predict(x[:3])
    batches = 0

    def after_two_batches() -> None:
        nonlocal batches
        batches += 1
        if batches == 2:  # of the 4 batches of its one epoch
            raise Stopped("the training was cancelled")

    stopped = model_class("lstm_transformer")(3, TINY, seed=1)
    with pytest.raises(Stopped):
        stopped.fit(x, y, check=after_two_batches)
    np.testing.assert_array_equal(held.predict(x[:3]), expected)
