"""``OrderParams``: how a strategy's orders are placed, the one value type the backtest engines, paper and
live trading and the parity check share (stop fractions, the fraction of equity a buy spends). A light
module: the trading core imports it without the engines (numpy, numba)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mastertrade.errors import UserInputError


@dataclass(frozen=True)
class OrderParams:
    """How a strategy's orders are placed: stop fractions (None = no such stop) and the fraction of
    equity a buy spends."""

    stop_loss: float | None = None
    take_profit: float | None = None
    trailing_stop: float | None = None
    size: float = 1.0

    def __post_init__(self) -> None:
        for name in ("stop_loss", "trailing_stop"):
            value = getattr(self, name)
            if value is not None and not (0.0 < value < 1.0):
                raise UserInputError(f"invalid {name} {value}: must be a fraction between 0 and 1")
        if self.take_profit is not None and not (0.0 < self.take_profit and math.isfinite(self.take_profit)):
            raise UserInputError(f"invalid take_profit {self.take_profit}: must be a positive fraction")
        if not (0.0 < self.size <= 1.0):
            raise UserInputError(f"invalid size {self.size}: must be a fraction in (0, 1]")

    def kernel_args(self) -> tuple[float, float, float, float]:
        """(stop_loss, take_profit, trailing_stop, size) with 0.0 for "none", as the kernel takes them."""
        return (self.stop_loss or 0.0, self.take_profit or 0.0, self.trailing_stop or 0.0, self.size)


def order_params(strategy: Any) -> OrderParams:
    """The order parameters a strategy carries (the genome's fields of the same names)."""
    return OrderParams(
        stop_loss=getattr(strategy, "stop_loss", None),
        take_profit=getattr(strategy, "take_profit", None),
        trailing_stop=getattr(strategy, "trailing_stop", None),
        size=getattr(strategy, "size", 1.0),
    )
