"""The hold-out's and the PBO's whole-matrix helpers give each row's numbers to the bit."""

from __future__ import annotations

import numpy as np
import pytest

from mastertrade.engine.generator.holdout import moments, moments_of_rows
from mastertrade.engine.generator.pbo import returns_of_close_rows, returns_of_closes


@pytest.mark.parametrize("days", [0, 1, 2, 9, 91, 129])
def test_rows_match_one_strategy_at_a_time(days: int) -> None:
    rng = np.random.default_rng(days)
    closes = 10_000 * np.cumprod(1 + rng.normal(0, 0.02, (12, days)), axis=1)
    closes[1] = 10_000.0  # flat: no spread, no skew
    if days > 3:
        closes[2, 1], closes[3, 2], closes[4, 3] = 0.0, np.nan, np.inf
    rows = returns_of_close_rows(closes, 10_000.0)
    for index in range(len(closes)):
        alone = returns_of_closes(closes[index], 10_000.0)
        assert rows[index].tobytes() == alone.tobytes()
        assert moments_of_rows(rows)[index] == moments(alone)  # floats compared exactly (None alike)
