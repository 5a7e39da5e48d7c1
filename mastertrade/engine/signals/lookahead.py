"""The no-lookahead check: a strategy's signals must not change when the future is cut off.

For each cut bar t, the signals computed on the candles truncated after bar t must equal, on every bar
up to t, the signals computed on the whole series. A strategy that peeks ahead (a centred indicator, a
negative shift, a normalisation over the whole series) fails at the first cut whose future differs.
The test suite runs it over every built-in and many random genomes; it works for plugins as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mastertrade.engine.signals.indicators import IndicatorCache
from mastertrade.engine.signals.strategy import Strategy

if TYPE_CHECKING:
    from mastertrade.engine.signals.features import FeatureProvider


@dataclass(frozen=True)
class Violation:
    """At ``bar``, the ``side`` signal ("entries"/"exits") computed with data cut after ``cut``
    differs from the one computed on the whole series."""

    strategy: str
    cut: int
    bar: int
    side: str


def lookahead_violations(
    strategies: Sequence[Strategy],
    frame: pd.DataFrame,
    cuts: Iterable[int],
    *,
    features: FeatureProvider | None = None,
) -> list[Violation]:
    """Every disagreement between truncated and full-series signals (an empty list proves none at
    these cuts). One cache per cut is shared by all strategies, so many genomes check cheaply."""
    full_cache = IndicatorCache(frame, features=features)
    full = [strategy.signals(full_cache) for strategy in strategies]
    found: list[Violation] = []
    for cut in sorted(set(cuts)):
        if not 0 <= cut < len(frame):
            raise ValueError(f"cut {cut} is outside the frame's {len(frame)} bars")
        cache = IndicatorCache(frame.iloc[: cut + 1], features=features)
        for strategy, (full_entries, full_exits) in zip(strategies, full, strict=True):
            entries, exits = strategy.signals(cache)
            for side, short, long in (("entries", entries, full_entries), ("exits", exits, full_exits)):
                differs = np.flatnonzero(short != long[: cut + 1])
                if differs.size:
                    found.append(Violation(strategy.name, cut, int(differs[0]), side))
    return found
