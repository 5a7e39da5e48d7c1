"""The levels of a protected position: the backtest's stop-loss, take-profit and trailing stop, pure.

These are the rules of ``engine/backtest/__init__.py`` (5 and 6), for a position the daemon protects
itself (a live one: the exchange holds no stop orders for it):

- from the entry's average fill price ``p``: the stop-loss is ``p x (1 - stop_loss)``, the take-profit
  ``p x (1 + take_profit)``;
- the trailing level is ``peak x (1 - trailing_stop)``, where ``peak`` starts at ``p`` and becomes the
  highest high since entry at each close (``after_close``), so a raised level is in force from the next
  bar; the stop in force is the higher of the fixed stop and the trailing level, so it never falls;
- a price range (a bar's low and high, or one price seen) reaching the stop triggers it, else one
  reaching the take-profit triggers that: when both are reached, the stop-loss counts.

A trigger says which level was crossed and the price that crossed it; the protector then sells at market
(a gap past the level sells at once, at whatever the market pays, as a gap fills at the open).
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Trigger:
    """A level was reached: ``role`` is "stop_loss", "trailing_stop" or "take_profit"."""

    role: str
    level: float
    seen: float


@dataclass(frozen=True)
class Levels:
    """A position's protection (fractions as in the strategy genome; ``peak`` the highest high since
    entry, at least the entry price)."""

    entry_price: float
    stop_loss: float | None = None
    take_profit: float | None = None
    trailing_stop: float | None = None
    peak: float | None = None

    @classmethod
    def arm(
        cls,
        entry_price: float,
        stop_loss: float | None,
        take_profit: float | None,
        trailing_stop: float | None,
        peak: float | None = None,
    ) -> Levels:
        """Levels from the average fill price (a peak carried over is kept when higher)."""
        start = entry_price if peak is None else max(peak, entry_price)
        return cls(entry_price, stop_loss, take_profit, trailing_stop, start)

    @property
    def fixed_stop(self) -> float | None:
        return self.entry_price * (1 - self.stop_loss) if self.stop_loss is not None else None

    @property
    def take(self) -> float | None:
        return self.entry_price * (1 + self.take_profit) if self.take_profit is not None else None

    @property
    def trailing(self) -> float | None:
        if self.trailing_stop is None:
            return None
        return (self.peak if self.peak is not None else self.entry_price) * (1 - self.trailing_stop)

    @property
    def stop(self) -> float | None:
        """The stop in force: the higher of the fixed stop and the trailing level."""
        found = [level for level in (self.fixed_stop, self.trailing) if level is not None]
        return max(found) if found else None

    @property
    def stop_role(self) -> str:
        """Which stop is in force: "trailing_stop" when the trailing level is above the fixed stop, else
        "stop_loss"."""
        fixed, trailing = self.fixed_stop, self.trailing
        if trailing is not None and (fixed is None or trailing > fixed):
            return "trailing_stop"
        return "stop_loss"

    @property
    def empty(self) -> bool:
        return self.stop is None and self.take is None

    def hit(self, low: float, high: float) -> Trigger | None:
        """The level a price range reaches (the stop when both are), or None."""
        stop = self.stop
        if stop is not None and low <= stop:
            return Trigger(self.stop_role, stop, low)
        take = self.take
        if take is not None and high >= take:
            return Trigger("take_profit", take, high)
        return None

    def after_close(self, high: float) -> Levels:
        """The levels after a bar closed with ``high``: the peak rises to it (never falls)."""
        if self.trailing_stop is None or (self.peak is not None and high <= self.peak):
            return self
        return replace(self, peak=high)
