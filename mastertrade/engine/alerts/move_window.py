"""The prices a ``pct_move`` rule measures a move against, in memory that does not grow with its window.

The rule kept every tick of its window: with ``--window 30d`` on a busy feed that is millions of entries
per symbol, growing for as long as the window is long. ``MoveWindow`` cuts the window into ``SLICES``
slices of ``window / SLICES`` seconds and keeps, for each, only its lowest and its highest price: at most
``SLICES + 1`` entries whatever the window and however busy the feed.

A move is measured from the window's lowest price (a move up) and from its highest (a move down) to the
newest price, so a move inside the window is never missed, wherever in the window it started. The
resolution is one slice (1% of the window): the slice on the window's far edge is kept whole, so a move
that took up to one slice longer than the window (61 minutes of a 1h window, 30.3 days of 30d) may count
as well.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

SLICES = 100
"""Slices per window: the resolution of a move's timing (1% of the window) and the bound on memory."""

_NARROWEST_S = 1e-3
"""A slice is never narrower than a millisecond (a window under 0.1 s is measured to the millisecond),
so a tick's slice number stays a plain integer."""


@dataclass(slots=True)
class _Slice:
    index: int
    low: float
    high: float


class MoveWindow:
    """The lowest and highest prices of the last ``window_s`` seconds, to one slice."""

    def __init__(self, window_s: float, slices: int = SLICES) -> None:
        self.slices = slices
        self.width = max(window_s / slices, _NARROWEST_S)
        self._kept: deque[_Slice] = deque()

    def __len__(self) -> int:
        """How many slices are kept (at most ``slices + 1``)."""
        return len(self._kept)

    def add(self, at: float, price: float) -> None:
        """Count a price seen at ``at`` (epoch seconds) and forget the slices that left the window. A
        tick stamped before the newest slice (a clock step back) is counted in the newest."""
        index = math.floor(at / self.width)
        newest = self._kept[-1] if self._kept else None
        if newest is not None and index <= newest.index:
            newest.low = min(newest.low, price)
            newest.high = max(newest.high, price)
        else:
            newest = _Slice(index, price, price)
            self._kept.append(newest)
        # The window [at - window, at] begins inside slice newest.index - slices: that one is kept whole.
        while self._kept[0].index < newest.index - self.slices:
            self._kept.popleft()

    def low(self) -> float:
        return min(kept.low for kept in self._kept)

    def high(self) -> float:
        return max(kept.high for kept in self._kept)

    def restart(self, at: float, price: float) -> None:
        """Start afresh from one price (after an alert, so a steady trend alerts once per further move)."""
        self._kept.clear()
        self.add(at, price)
