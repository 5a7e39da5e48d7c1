"""Value at risk and expected shortfall (CVaR) of a portfolio, historical and parametric.

Both take a series of past returns over one horizon (``[risk] var_horizon``, a day by default) and the
portfolio's current value, and answer in quote currency, as positive numbers for losses:

- **Historical.** Sort the n returns ascending and take the k = ceil(n x (1 - level)) worst. VaR is the
  loss at the k-th worst return, -r(k) x value; CVaR is the mean loss over those k returns. With 100
  returns at 95%: VaR is the 5th worst loss, CVaR the average of the 5 worst. (This order-statistic
  definition needs no interpolation and is what one computes by hand.)
- **Parametric** (normal). With mean m and sample standard deviation s of the returns and z the
  standard normal quantile at 1 - level: VaR = -(m + z s) x value, CVaR = -(m - s phi(z) / (1 - level))
  x value, phi being the standard normal density.

A gain at the quantile gives a negative VaR, reported as it is. Fewer than ``MIN_RETURNS`` returns give
no figures (None): a tail estimate from a handful of points would only look precise.

``portfolio_returns`` builds the return series of the *current* positions from their symbols' own price
histories (weights by value, cash earning nothing), so a new account has a VaR as soon as it holds
something; ``equity_returns`` takes them from the account's equity history instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

LEVELS = (0.95, 0.99)
MIN_RETURNS = 20


@dataclass(frozen=True)
class VaRFigures:
    """VaR and CVaR at one confidence level, in quote currency (losses positive)."""

    level: float
    historical_var: float
    historical_cvar: float
    parametric_var: float
    parametric_cvar: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "historical_var": self.historical_var,
            "historical_cvar": self.historical_cvar,
            "parametric_var": self.parametric_var,
            "parametric_cvar": self.parametric_cvar,
        }


def historical(returns: Sequence[float], level: float) -> tuple[float, float]:
    """(VaR, CVaR) as fractions of value (losses positive), by the order statistic of the docstring."""
    _check(returns, level)
    ordered = sorted(returns)
    k = max(1, math.ceil(len(ordered) * (1 - level) - 1e-12))
    tail = ordered[:k]
    return -tail[-1], -math.fsum(tail) / k


def parametric(returns: Sequence[float], level: float) -> tuple[float, float]:
    """(VaR, CVaR) as fractions of value under a normal distribution fitted to the returns."""
    _check(returns, level)
    n = len(returns)
    mean = math.fsum(returns) / n
    sd = math.sqrt(math.fsum((r - mean) ** 2 for r in returns) / (n - 1))
    normal = NormalDist()
    z = normal.inv_cdf(1 - level)
    var = -(mean + z * sd)
    cvar = -(mean - sd * normal.pdf(z) / (1 - level))
    return var, cvar


def _check(returns: Sequence[float], level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"confidence level {level} must be between 0 and 1")
    if len(returns) < 2:
        raise ValueError("need at least two returns")
    if not all(math.isfinite(r) for r in returns):
        raise ValueError("returns must be finite numbers")


def var_cvar(
    returns: Sequence[float], value: float, levels: Sequence[float] = LEVELS
) -> list[VaRFigures] | None:
    """VaR and CVaR in quote currency at each level, or None with fewer than ``MIN_RETURNS`` returns."""
    clean = [r for r in returns if math.isfinite(r)]
    if len(clean) < MIN_RETURNS:
        return None
    out = []
    for level in levels:
        h_var, h_cvar = historical(clean, level)
        p_var, p_cvar = parametric(clean, level)
        out.append(VaRFigures(level, h_var * value, h_cvar * value, p_var * value, p_cvar * value))
    return out


def simple_returns(values: Sequence[float]) -> list[float]:
    """Period-over-period returns of a value series (periods starting at zero or below are skipped)."""
    return [b / a - 1 for a, b in zip(values, values[1:], strict=False) if a > 0]


def portfolio_returns(weights: Mapping[str, float], closes: Mapping[str, Sequence[float]]) -> list[float]:
    """Returns of a portfolio holding ``weights`` (fractions of its value per symbol; the rest is cash),
    from each symbol's closes on a common time grid (the same length, oldest first)."""
    if not weights:
        return []
    series = {symbol: simple_returns(closes[symbol]) for symbol in weights}
    length = min(len(values) for values in series.values())
    return [
        math.fsum(weights[symbol] * series[symbol][len(series[symbol]) - length + i] for symbol in weights)
        for i in range(length)
    ]
