"""Intrabar price paths: how a feed that only knows a bar's open, high, low and close (the simulated
market, a replay of stored candles) shows that bar forming tick by tick.

The path starts at the open, touches the high and the low (in a random order, as a real bar does) and
ends at the close, with a Brownian-bridge wiggle between those points. It never leaves [low, high], so
the forming bar a client sees is always consistent with the final one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mastertrade.engine.candle import Candle
from mastertrade.engine.market.timeframes import timeframe_ms
from mastertrade.engine.market.venue import CandleUpdate


def intrabar_path(
    o: float,
    h: float,
    lo: float,
    c: float,
    steps: int,
    rng: np.random.Generator,
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """``steps`` prices (``steps >= 1``) of a bar forming, ending exactly at the close."""
    if steps <= 1:
        return np.array([c], dtype=np.float64)
    # Anchor points: open -> first extreme -> second extreme -> close, at random times in the bar.
    high_first = rng.random() < 0.5
    a, b = sorted(rng.choice(np.arange(1, steps - 1), 2, replace=False)) if steps > 3 else (1, steps - 1)
    anchors_x = [0, int(a), int(b), steps - 1] if steps > 3 else [0, steps - 1]
    first, second = (h, lo) if high_first else (lo, h)
    anchors_y = [o, first, second, c] if steps > 3 else [o, c]
    path = np.interp(np.arange(steps), anchors_x, anchors_y)
    # Wiggle between anchors, pinned at them, scaled to the bar's range and clipped inside it.
    noise = np.cumsum(rng.normal(0.0, 1.0, steps))
    pinned = noise - np.interp(np.arange(steps), anchors_x, noise[anchors_x])
    scale = (h - lo) * 0.08 / max(1.0, float(np.abs(pinned).max()))
    out: np.ndarray[Any, np.dtype[np.float64]] = np.clip(path + pinned * scale, lo, h)
    out[-1] = c
    return out


def forming_update(
    symbol: str,
    timeframe: str,
    bar: Sequence[float],
    path: np.ndarray[Any, np.dtype[np.float64]],
    tick: int,
) -> CandleUpdate:
    """The update a feed sends at ``tick`` of a bar (ts, o, h, l, c, v) forming along ``path``: the bar
    so far while it forms, and the exact final bar, ``closed``, at the path's last tick."""
    ticks = len(path)
    step = timeframe_ms(timeframe)
    at = int(bar[0]) + step * (tick + 1) // ticks  # the tick's market time: the bar's close at the last
    if tick == ticks - 1:
        ts, o, h, l, c, v = (float(x) for x in bar[:6])  # noqa: E741
        return CandleUpdate(symbol, timeframe, Candle(int(ts), o, h, l, c, v), closed=True, at=at)
    seen = path[: tick + 1]
    return CandleUpdate(
        symbol,
        timeframe,
        Candle(
            int(bar[0]),
            float(bar[1]),
            float(max(bar[1], seen.max())),
            float(min(bar[1], seen.min())),
            float(path[tick]),
            float(bar[5]) * (tick + 1) / ticks,
        ),
        closed=False,
        at=at,
    )
