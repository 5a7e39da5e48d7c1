"""The goal risk factor: how much bolder or more careful sizing should be, and why.

Every position's Kelly fraction is multiplied by this factor (``sizer``). It starts at 1 and moves by
the goals' schedule gaps, then the drawdown caps it:

1. **Goals.** Each goal with a schedule contributes ``-goal_gain x gap`` with the gap clipped to
   [-1, 1]: behind schedule (gap < 0) raises the factor, ahead of schedule (gap > 0, which includes a
   periodic goal already reached) lowers it to protect the gains. Goals within ``schedule_tolerance``
   of their schedule, and value goals past their deadline (missed), contribute nothing. The factor is
   1 plus the mean contribution, kept within [``min_factor``, ``max_factor``].
2. **Drawdown.** From ``drawdown_caution x max_drawdown`` on, the factor is capped by a line falling
   from 1 to ``drawdown_floor`` at ``max_drawdown``, whatever the goals say (beyond the limit the
   account is reduce-only anyway).

The result carries one sentence per influence, so ``mt goal progress`` can say why the factor is what
it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mastertrade.engine.sizing.goals import MISSED, GoalProgress

if TYPE_CHECKING:
    from mastertrade.config import SizingSettings


@dataclass(frozen=True)
class RiskFactor:
    value: float
    reasons: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "reasons": list(self.reasons)}


def risk_factor(
    progress: Sequence[GoalProgress], drawdown: float, sizing: SizingSettings, max_drawdown: float
) -> RiskFactor:
    """The factor for these goals' progress and the current drawdown (a fraction below the peak), by the
    ``[sizing]`` settings and ``[risk] max_drawdown``."""
    reasons: list[str] = []
    contributions: list[float] = []
    for item in progress:
        if item.status == MISSED:
            deadline = f" {item.goal.deadline.date().isoformat()}" if item.goal.deadline else ""
            reasons.append(f"goal '{item.goal.name}' missed its deadline{deadline}: no influence")
            continue
        if item.gap is None or item.expected is None:  # (a gap is progress - expected)
            continue
        gap = max(-1.0, min(1.0, item.gap))
        name = item.goal.name
        where = f"({_percent(item.progress)} of target, {_percent(item.expected)} due)"
        if abs(item.gap) <= sizing.schedule_tolerance:
            contributions.append(0.0)
            reasons.append(f"goal '{name}' is on schedule {where}")
            continue
        contribution = -sizing.goal_gain * gap
        contributions.append(contribution)
        if item.gap < 0:
            reasons.append(f"goal '{name}' is behind schedule {where}: {contribution:+.2f}")
        else:
            what = "reached" if item.progress >= 1 else "ahead of schedule"
            reasons.append(f"goal '{name}' is {what} {where}: {contribution:+.2f} to protect gains")
    value = 1.0 + (sum(contributions) / len(contributions) if contributions else 0.0)
    if not contributions:
        reasons.append("no goal with a schedule: neutral factor 1.00")
    bounded = min(sizing.max_factor, max(sizing.min_factor, value))
    if bounded != value:
        reasons.append(f"kept within [{sizing.min_factor:.2f}, {sizing.max_factor:.2f}]")
    value = bounded

    caution = sizing.drawdown_caution * max_drawdown
    if drawdown > caution:
        share = min(1.0, (drawdown - caution) / (max_drawdown - caution))
        cap = 1.0 - (1.0 - sizing.drawdown_floor) * share
        if value > cap:
            reasons.append(
                f"drawdown {drawdown:.1%} is near the {max_drawdown:.0%} limit: capped at {cap:.2f}"
            )
            value = cap
    return RiskFactor(value, tuple(reasons))


def _percent(fraction: float) -> str:
    """``fraction`` as a whole percentage, a tiny loss read as 0% (not "-0%")."""
    return f"{round(fraction, 2) + 0.0:.0%}"
