"""Bars missing inside the span of a series about to be researched, said beside the figures.

The engines, the indicators and the walk-forward windows count bars, not time: across a hole the bar
before it and the bar after it are adjacent, so an SMA(30) spans more than 30 hours and a window covers
more days than its bars say. ``mt data check`` lists the gaps; ``mt backtest``, ``mt validate`` and
``mt optimize`` say how many bars are missing when it is a share worth knowing (``MISSING_SHARE``), instead
of reporting on the series as if it were whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mastertrade.engine.market.timeframes import timeframe_ms

if TYPE_CHECKING:
    import pandas as pd

MISSING_SHARE = 0.01
"""Missing bars at or above this share (1%) of the span from the first bar to the last are said."""


def missing_bars(frame: pd.DataFrame, timeframe: str) -> tuple[int, int]:
    """(bars missing between the first and the last bar of ``frame``, the number of holes)."""
    if len(frame) < 2:
        return 0, 0
    import pandas as pd

    step = timeframe_ms(timeframe)
    stamps = np.asarray(pd.DatetimeIndex(frame.index).as_unit("ms").asi8, dtype=np.int64)
    jumps = np.diff(stamps)
    holes = jumps > step
    return int((jumps[holes] // step - 1).sum()), int(holes.sum())


def missing_note(frame: pd.DataFrame, timeframe: str, symbol: str) -> str | None:
    """A sentence on the bars missing in ``frame`` when they are at least ``MISSING_SHARE`` of its span;
    None otherwise."""
    missing, holes = missing_bars(frame, timeframe)
    span = len(frame) + missing
    if not missing or missing < MISSING_SHARE * span:
        return None
    return (
        f"{missing:,} of the {span:,} bars from the first to the last are missing ({holes:,}"
        f" {'hole' if holes == 1 else 'holes'}): indicators and walk-forward windows run across them as"
        f" if the bars on either side were adjacent (`mt data check {symbol} --timeframe {timeframe}`"
        " lists them)"
    )
