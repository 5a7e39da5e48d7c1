"""An entry's size: the strategy's Kelly fraction x the goal risk factor, capped by the position limit.

    fraction = min(kelly.fraction x factor, max_position)        amount = fraction x equity / price

The risk check still has the last word (exposure, cash, open positions, minimum notional): sizing
proposes, the risk manager disposes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mastertrade.engine.sizing.factor import RiskFactor
from mastertrade.engine.sizing.kelly import KellySizing


@dataclass(frozen=True)
class EntrySize:
    fraction: float
    amount: float
    kelly: KellySizing
    factor: RiskFactor
    explanation: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "fraction": self.fraction,
            "amount": self.amount,
            "kelly": self.kelly.as_dict(),
            "factor": self.factor.as_dict(),
            "explanation": self.explanation,
        }


def size_entry(
    equity: float, price: float, kelly: KellySizing, factor: RiskFactor, max_position: float
) -> EntrySize:
    """The amount of an entry at ``price`` for an account worth ``equity`` (0 when there is no edge)."""
    raw = kelly.fraction * factor.value
    fraction = min(raw, max_position)
    capped = f", capped at the {max_position:.0%} position limit" if raw > max_position else ""
    amount = fraction * equity / price if price > 0 and equity > 0 else 0.0
    explanation = f"{kelly.reason}; x goal factor {factor.value:.2f} = {raw:.2%}{capped}"
    return EntrySize(fraction, max(0.0, amount), kelly, factor, explanation)
