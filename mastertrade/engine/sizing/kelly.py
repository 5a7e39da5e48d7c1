"""Fractional Kelly sizing from a strategy's record: its backtest, blended with its own trades as they
accumulate (its paper book's, each signal once: ``Account.real_record``).

**Record.** A strategy's trades reduce to ``TradeStats``: how many won and lost, and the sum of the
returns (P&L over entry value) of the wins and of the losses.

**Blend.** The backtest is a prior that counts as at most ``prior_trades`` trades: its counts and sums
are scaled by ``w = min(1, prior_trades / backtest_trades)`` and added to the real (its paper book's)
record, which counts in full::

    wins   = w * wins_bt   + wins_real        win_sum  = w * win_sum_bt  + win_sum_real
    losses = w * losses_bt + losses_real      loss_sum = w * loss_sum_bt + loss_sum_real

So with 30 prior trades and 30 real ones the real record already has half the say, and with 300 it has
91%; a strategy whose real results decay is sized down without waiting for its backtest to be forgotten.

**Kelly.** From the blend, the win rate ``p = wins / (wins + losses)`` and the payoff ratio
``b = (win_sum / wins) / (|loss_sum| / losses)`` (average win over average loss) give the Kelly fraction
``f* = p - (1 - p) / b``. The position takes ``kelly_fraction x f*`` of equity (half Kelly by default),
read as the fraction of equity put into the position. That is the conservative reading: with stops a
losing trade loses only part of the position, so the equity actually at risk is smaller still.

A record with fewer than ``min_trades`` trades (after the blend) uses ``default_fraction``; an edge that
is not positive (f* <= 0), or a record without a single win, sizes to zero: no trade. A record with wins
and no losses has no payoff ratio; its Kelly fraction is taken as the win rate (b -> infinity).
The result is capped by the risk limits by the caller (``sizer``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mastertrade.config import SizingSettings


@dataclass(frozen=True)
class TradeStats:
    """A trade record: counts (may be fractional after scaling) and summed returns of wins and losses."""

    wins: float = 0.0
    losses: float = 0.0
    win_sum: float = 0.0
    """Sum of the winning trades' returns (positive)."""
    loss_sum: float = 0.0
    """Sum of the losing trades' returns (negative or zero)."""

    @classmethod
    def from_returns(cls, returns: Iterable[float]) -> TradeStats:
        """A record from per-trade returns; a trade at exactly zero counts as a loss of nothing."""
        values = [r for r in returns if math.isfinite(r)]
        wins = [r for r in values if r > 0]
        losses = [r for r in values if r <= 0]
        return cls(float(len(wins)), float(len(losses)), math.fsum(wins), math.fsum(losses))

    @property
    def trades(self) -> float:
        return self.wins + self.losses

    @property
    def win_rate(self) -> float | None:
        return self.wins / self.trades if self.trades > 0 else None

    @property
    def payoff(self) -> float | None:
        """Average win over average loss (None without a win or without a loss)."""
        if self.wins <= 0 or self.losses <= 0 or self.loss_sum >= 0:
            return None
        return (self.win_sum / self.wins) / (-self.loss_sum / self.losses)

    def scaled(self, weight: float) -> TradeStats:
        return TradeStats(
            self.wins * weight, self.losses * weight, self.win_sum * weight, self.loss_sum * weight
        )

    def __add__(self, other: TradeStats) -> TradeStats:
        return TradeStats(
            self.wins + other.wins,
            self.losses + other.losses,
            self.win_sum + other.win_sum,
            self.loss_sum + other.loss_sum,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "trades": self.trades,
            "win_rate": self.win_rate,
            "payoff": self.payoff,
        }


def blend(backtest: TradeStats, real: TradeStats, prior_trades: int) -> tuple[TradeStats, float]:
    """The blended record and the weight the backtest got (see the module docstring)."""
    weight = min(1.0, prior_trades / backtest.trades) if backtest.trades > 0 else 0.0
    return backtest.scaled(weight) + real, weight


def kelly(stats: TradeStats) -> float | None:
    """The full Kelly fraction f* = p - (1 - p) / b of a record (None without trades)."""
    p = stats.win_rate
    if p is None:
        return None
    if stats.wins <= 0:
        return 0.0
    b = stats.payoff
    if b is None:  # wins and no losses: b -> infinity
        return p
    return p - (1 - p) / b


@dataclass(frozen=True)
class KellySizing:
    """The fraction of equity a strategy's position takes before goals and limits, and why."""

    fraction: float
    kelly: float | None
    stats: TradeStats
    backtest_weight: float
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "fraction": self.fraction,
            "kelly": self.kelly,
            "backtest_weight": self.backtest_weight,
            "reason": self.reason,
            **self.stats.as_dict(),
        }


def kelly_sizing(
    backtest: TradeStats,
    real: TradeStats,
    sizing: SizingSettings,
) -> KellySizing:
    """The Kelly-based fraction of equity for a strategy with this backtest and real record, by the
    ``[sizing]`` settings (kelly_fraction, prior_trades, min_trades, default_fraction)."""
    kelly_fraction, min_trades = sizing.kelly_fraction, sizing.min_trades
    default_fraction = sizing.default_fraction
    stats, weight = blend(backtest, real, sizing.prior_trades)
    if stats.trades < min_trades:
        return KellySizing(
            default_fraction,
            None,
            stats,
            weight,
            f"only {stats.trades:.0f} trades on record (fewer than {min_trades}): default fraction "
            f"{default_fraction:.2%}",
        )
    full = kelly(stats)
    assert full is not None  # trades >= min_trades >= 1
    if full <= 0:
        return KellySizing(0.0, full, stats, weight, f"no edge: Kelly fraction {full:.3f} <= 0, no trade")
    fraction = min(1.0, kelly_fraction * full)
    payoff = stats.payoff
    payoff_text = f"{payoff:.2f}" if payoff is not None else "inf"
    return KellySizing(
        fraction,
        full,
        stats,
        weight,
        f"win rate {stats.win_rate:.1%}, payoff {payoff_text}: Kelly {full:.3f} x {kelly_fraction:g} "
        f"= {fraction:.2%} of equity",
    )
