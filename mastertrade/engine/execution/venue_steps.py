"""A human's live order against the market's lot step and price tick: taken as given, or refused.

An exchange takes amounts in whole lot steps and prices in whole ticks (Binance's ``LOT_SIZE`` and
``PRICE_FILTER``). The live broker fits an order to them before sending (ccxt's ``amount_to_precision``
cuts an amount down, ``price_to_precision`` rounds a price to the nearest tick), which suits the orders
the daemon makes itself. A trader's order is never moved on their behalf: rounded, a limit buy at
39,999.995 became 40,000, the market, and filled above the limit asked. So an amount between two steps
is bad input naming the two amounts the market takes, unless ``--allow-resize`` lets it be cut down to
the step (as it lets the risk limits cut it); a limit or stop price between two ticks is bad input
naming the two prices. A value within a hair of a step (a float sum such as a position's size) counts
as on it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mastertrade import errors

HAIR = Decimal("1e-9")
"""How far from a whole number of steps, in steps, a value still counts as on one (float noise)."""


def step_of(exchange: Any, market: dict[str, Any], key: str) -> Decimal | None:
    """The market's step for ``key`` ("amount" or "price") as a decimal, or None when the venue gives
    none (or gives significant digits, which have no fixed step)."""
    import ccxt.async_support as ccxt

    precision = (market.get("precision") or {}).get(key)
    if precision is None:
        return None
    if exchange.precisionMode == ccxt.TICK_SIZE:
        step = Decimal(str(precision))
    elif exchange.precisionMode == ccxt.DECIMAL_PLACES:
        step = Decimal(1).scaleb(-int(precision))
    else:
        return None
    return step if step > 0 else None


def on_step(value: float, step: Decimal) -> tuple[Decimal, Decimal] | None:
    """None when ``value`` is a whole number of ``step``s (within a hair); else the multiples below and
    above it."""
    steps = Decimal(repr(value)) / step
    nearest = steps.to_integral_value()
    if abs(steps - nearest) <= HAIR:
        return None
    below = steps.to_integral_value(rounding="ROUND_FLOOR")
    return below * step, (below + 1) * step


def whole_steps(exchange: Any, symbol: str, amount: float) -> float:
    """``amount`` cut down to whole lot steps, for an amount the daemon computed (a rest, what a fill
    brought in): a float a hair under a step counts as on it (0.1 - 0.08439 is 0.015609999999999999,
    which ccxt's ``amount_to_precision`` cuts to 0.0156, a lot step short). 0 when under one step."""
    market = exchange.markets.get(symbol) or {}
    step = step_of(exchange, market, "amount")
    if step is None:
        import ccxt.async_support as ccxt

        try:
            return float(exchange.amount_to_precision(symbol, amount))
        except ccxt.InvalidOrder:  # under the precision: nothing the exchange takes
            return 0.0
    steps = Decimal(repr(amount)) / step
    nearest = steps.to_integral_value()
    whole = nearest if abs(steps - nearest) <= HAIR else steps.to_integral_value(rounding="ROUND_FLOOR")
    return float(max(whole, Decimal(0)) * step)


def shown(value: Decimal) -> str:
    """A decimal without an exponent or trailing zeros: 0.00001, 40000."""
    return format(value.normalize(), "f")


def fit_amount(
    exchange: Any, market: dict[str, Any], venue: str, amount: float, *, allow_resize: bool
) -> float:
    """``amount`` when it is whole lot steps; cut down to the step with ``allow_resize``; otherwise
    ``UserInputError`` naming the amounts the market takes."""
    step = step_of(exchange, market, "amount")
    if step is None:
        return amount
    between = on_step(amount, step)
    if between is None:
        return float((Decimal(repr(amount)) / step).to_integral_value() * step)
    below, above = between
    if allow_resize and below > 0:
        return float(below)
    raise errors.UserInputError(
        f"amount {amount:.12g} {market['symbol']} is not a whole number of {venue}'s lot step {shown(step)}:"
        f" ask for {shown(below)} or {shown(above)}"
        + (" (or let it be cut to the step: --allow-resize)" if below > 0 else "")
    )


def check_price(exchange: Any, market: dict[str, Any], venue: str, price: float, what: str) -> None:
    """``UserInputError`` when a trader's ``what`` (limit or stop) price falls between two ticks."""
    step = step_of(exchange, market, "price")
    if step is None:
        return
    between = on_step(price, step)
    if between is not None:
        below, above = between
        raise errors.UserInputError(
            f"{what} price {price:.12g} is between two of {market['symbol']}'s price ticks on {venue}"
            f" ({shown(step)}): ask for {shown(below)} or {shown(above)}"
        )
