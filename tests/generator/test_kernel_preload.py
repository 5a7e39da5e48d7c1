"""The scoring kernels ``mt generate`` loads during its start-up are the ones its search then calls: the
same argument types whatever frame they came from, so nothing compiles (seconds) in the background or in
the search after it."""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd

from mastertrade.engine.backtest.fast import price_arrays
from mastertrade.engine.generator import pipeline
from mastertrade.engine.generator.evaluation import Problem, Scorer
from mastertrade.engine.generator.kernel import score_many
from mastertrade.engine.signals.program import run_programs, run_some
from mastertrade.engine.signals.random_genome import random_genome
from tests.generator.conftest import sim_frame


def built_from_arrays(bars: int) -> pd.DataFrame:
    """A frame made of separate numpy arrays: pandas hands its columns out as read-only views."""
    close = np.linspace(100.0, 120.0, bars)
    index = pd.date_range("2025-01-01", periods=bars, freq="h", tz="UTC").as_unit("ms")
    return pd.DataFrame(
        {"open": close, "high": close + 1, "low": close - 1, "close": close, "volume": np.ones(bars)},
        index=index,
    )


def test_every_frame_gives_the_kernels_the_same_argument_types() -> None:
    simulated, made = sim_frame(600), built_from_arrays(600)
    assert [numba.typeof(a) for a in price_arrays(made)] == [numba.typeof(a) for a in price_arrays(simulated)]
    assert numba.typeof(Problem(made).ts) == numba.typeof(Problem(simulated).ts)
    assert all(a.flags.writeable and a.flags.c_contiguous for a in price_arrays(made))


def test_the_preloaded_kernels_are_the_ones_a_search_calls() -> None:
    pipeline.load_scoring_kernels()
    kernels = (score_many, run_programs, run_some)
    loaded = [set(kernel.signatures) for kernel in kernels]
    assert all(loaded)
    scorer = Scorer(Problem(sim_frame(1_000)), threads=2)
    scores = scorer.score([random_genome(seed) for seed in range(6)])
    assert len(scores) == 6
    assert [set(kernel.signatures) for kernel in kernels] == loaded
