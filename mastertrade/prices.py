"""Prices and money as a trader reads them: a price rounded to the market's tick (31,247.20 on a market
quoted in cents, never 31247.199999999997), or, when the tick is not known, to six significant digits
with at least two decimals (31,247.20; 171.007; 0.0000123457); money in the quote currency to the cent.

Pure functions of the standard library, cheap to import (the CLI's start-up reads this module)."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal

SIGNIFICANT = 6
"""Digits a price without a known tick keeps: a crypto price is quoted to about six."""
MAX_DECIMALS = 10


def price(value: float | None, tick: float | None = None) -> str:
    """``value`` as the market quotes it: on the tick's grid with the tick's decimals, else at a
    sensible precision (module docstring). "n/a" when there is no price."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if tick is not None and math.isfinite(tick) and tick > 0:
        step = Decimal(repr(tick)).normalize()
        on_grid = (Decimal(repr(value)) / step).to_integral_value(ROUND_HALF_EVEN) * step
        decimals = max(0, -step.as_tuple().exponent)  # type: ignore[operator]
        return f"{on_grid:,.{decimals}f}"
    if value == 0:
        return "0.00"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = min(MAX_DECIMALS, max(2, SIGNIFICANT - 1 - magnitude))
    return f"{value:,.{decimals}f}"


def money(value: float) -> str:
    """An amount of the quote currency, to the cent: 10,012.34."""
    shown = f"{value:,.2f}"
    return "0.00" if shown == "-0.00" else shown


def signed_money(value: float) -> str:
    """A change in money, with its sign: +12.34, -0.30, 0.00."""
    shown = f"{value:+,.2f}"
    return "0.00" if shown in ("+0.00", "-0.00") else shown


def amount(value: float) -> str:
    """A quantity of a base asset, without float noise or trailing zeros: 0.01, 1.5, 1,250."""
    shown = f"{value:,.8f}".rstrip("0").rstrip(".")
    return "0" if shown in ("", "-0") else shown


def pct(fraction: float | None, digits: int = 2) -> str:
    """A fraction as a percentage: 0.0123 -> 1.23%."""
    if fraction is None or not math.isfinite(fraction):
        return "n/a"
    shown = f"{fraction * 100:.{digits}f}"
    if shown.startswith("-") and not shown.strip("-0."):
        shown = shown[1:]
    return f"{shown}%"
