"""The bar: one value type for a candle, carried unchanged from the venue to the Trader.

A venue's ``CandleUpdate`` holds a ``Candle``; the market feed publishes that same value in
``PriceTick``/``CandleClosed`` (their JSON stays flat: ``ts``/``bar_ts``, ``open`` ... ``volume``); the
trading service hands it to the account and the matching engine as a ``Bar`` (the candle and whether it
is final). The candle store's rows (``CandleRow``) are the same six numbers as a tuple.
"""

from __future__ import annotations

from dataclasses import dataclass

CandleRow = tuple[int, float, float, float, float, float]
"""(ts, open, high, low, close, volume): a candle as the store and ccxt hold it."""


@dataclass(frozen=True, slots=True)
class Candle:
    """One bar of a series: ``ts`` is its open time (epoch milliseconds, UTC)."""

    ts: int
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0

    @classmethod
    def from_row(cls, row: CandleRow) -> Candle:
        ts, o, h, low, c, v = row
        return cls(int(ts), float(o), float(h), float(low), float(c), float(v))

    def row(self) -> CandleRow:
        return (self.ts, self.open, self.high, self.low, self.close, self.volume)


class OnCandle:
    """Read-through access to a ``candle`` attribute (``value.close`` is ``value.candle.close``): for the
    bar and the market events that carry one."""

    __slots__ = ()
    candle: Candle

    @property
    def open(self) -> float:
        return self.candle.open

    @property
    def high(self) -> float:
        return self.candle.high

    @property
    def low(self) -> float:
        return self.candle.low

    @property
    def close(self) -> float:
        return self.candle.close

    @property
    def volume(self) -> float:
        return self.candle.volume


@dataclass(frozen=True, slots=True)
class Bar(OnCandle):
    """A candle as it stands: final (``closed``) or still forming (its close the latest price)."""

    candle: Candle
    closed: bool = True

    @property
    def ts(self) -> int:
        return self.candle.ts
