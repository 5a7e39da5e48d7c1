"""Whether the engines' smallest tradable amount is too coarse for a series' prices and the cash.

Both engines trade whole units of ``FRACTIONAL_UNIT`` (1e-8) of the asset, as backtesting.py's
``FractionalBacktest`` does: at BTC's prices a unit costs a fraction of a cent, but at a price of 1e12 it
costs 10,000, so a position is rounded to a few units (or to none: an entry that cannot afford one unit
is dropped) and every figure, buy-and-hold's too, is distorted. The figures are still computed the one
way (the engines' contract); this says so beside them instead of letting them pass as sound.

``PRICE_RANGE`` is where no cash a backtest takes makes them sound, from the same constants: above its
top one unit costs more than ``COARSE_SHARE`` of ``MAX_CASH``, below its bottom the count of units
``MAX_CASH`` buys is past floating point. ``mt data import`` refuses prices outside it.
"""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING

from mastertrade.engine.backtest.result import FRACTIONAL_UNIT, MAX_CASH

if TYPE_CHECKING:
    import pandas as pd

COARSE_SHARE = 1e-3
"""One unit costing more than this share of the cash (0.1%) can shift a position by as much: too coarse."""

PRICE_RANGE = (
    MAX_CASH / (FRACTIONAL_UNIT * sys.float_info.max),
    MAX_CASH * COARSE_SHARE / FRACTIONAL_UNIT,
)
"""The prices the engines trade meaningfully with the most cash a backtest takes (about 5.56e-289 to
1e17): the count of units ``MAX_CASH`` buys at the bottom is the largest float; one unit at the top costs
``COARSE_SHARE`` of it."""

PRICE_BOUNDS_WHY = (
    f"the lowest price at which the count of 1e-8 units the most cash a backtest takes ({MAX_CASH:g}) buys is"
    " a number",
    f"the highest price at which one 1e-8 unit, the smallest amount the engines trade, costs at most"
    f" {COARSE_SHARE:.1%} of the most cash a backtest takes ({MAX_CASH:g})",
)
"""Why each bound of ``PRICE_RANGE`` is where it is, for a refusal to say."""


def coarse_units(frame: pd.DataFrame, cash: float) -> str | None:
    """A sentence naming the highest open price and what one unit costs there, when that is more than
    ``COARSE_SHARE`` of ``cash``, or the lowest, when the count of units the cash buys there overflows
    (prices like 1e-310, which a CSV can hold); None when the units are fine (or there are no bars)."""
    if frame.empty:
        return None
    bottom = float(frame["open"].min())
    per_unit = bottom * FRACTIONAL_UNIT  # 0.0 when it underflows (a price of 1e-320)
    if per_unit <= 0 or not math.isfinite(cash / per_unit):
        return (
            f"at prices down to {bottom:.3g} the count of 1e-8 units the cash {cash:,.0f} buys is beyond"
            " floating point: no order can be sized, so these figures say nothing of the strategy"
        )
    top = float(frame["open"].max())
    cost = top * FRACTIONAL_UNIT
    if not cost > cash * COARSE_SHARE:
        return None
    share = cost / cash
    costs = f"{cost:,.0f}" if 100 <= cost < 1e9 else f"{cost:.3g}"
    part = f"{share:.0%} of" if share < 1e4 else f"{share:.3g} times"
    return (
        f"at prices up to {top:.3g} the smallest amount the engines trade (1e-8 of the asset, as"
        f" backtesting.py's FractionalBacktest) costs {costs}, {part} the cash {cash:,.0f}: positions"
        " are rounded to whole units and entries that cannot pay for one are dropped, so these figures"
        " are distorted (more cash: --cash or [backtest] cash)"
    )
