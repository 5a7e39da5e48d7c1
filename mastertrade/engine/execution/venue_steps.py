"""A human's live order against the market's lot step and price tick: taken as given, or refused.

An exchange takes amounts in whole lot steps and prices in whole ticks (Binance's ``LOT_SIZE`` and
``PRICE_FILTER``). The live broker fits an order to them before sending (ccxt's ``amount_to_precision``
cuts an amount down, ``price_to_precision`` rounds a price to the nearest tick), which suits the orders
the daemon makes itself. A trader's order is never moved on their behalf: rounded, a limit buy at
39,999.995 became 40,000, the market, and filled above the limit asked. So an amount between two steps
is bad input naming the two amounts the market takes, unless ``--allow-resize`` lets it be cut down to
the step (as it lets the risk limits cut it); a sell is never offered an amount above what is held,
and is told the dust the lower one leaves. A limit or stop price between two ticks is bad input naming
the two prices. A value within a hair of a step (a float sum such as a position's size) counts
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
    exchange: Any,
    market: dict[str, Any],
    venue: str,
    amount: float,
    *,
    allow_resize: bool,
    held: float | None = None,
) -> float:
    """``amount`` when it is whole lot steps; cut down to the step with ``allow_resize``; otherwise
    ``UserInputError`` naming the amounts the market takes. For a sell, ``held`` is what the account
    holds: no amount above it is suggested (a whole position off the step, 0.12332655 BTC left by a fee
    taken in the coin, can be sold only to 0.12332), and the refusal says what the lower amount leaves
    behind."""
    step = step_of(exchange, market, "amount")
    if step is None:
        return amount
    between = on_step(amount, step)
    if between is None:
        return float((Decimal(repr(amount)) / step).to_integral_value() * step)
    below, above = between
    if allow_resize and below > 0:
        return float(below)
    symbol = market["symbol"]
    asked = f"ask for {shown(below)} or {shown(above)}"
    can_cut = below > 0
    if held is not None and held > 0:
        owned = Decimal(repr(held))
        if above > owned + HAIR * step:
            most = (owned / step).to_integral_value(rounding="ROUND_FLOOR") * step
            base = market.get("base") or symbol.split("/")[0]
            owned_text = shown(Decimal(f"{held:.12g}"))
            can_cut = 0 < below <= most
            if can_cut:
                left = (owned - below).quantize(Decimal("1e-12"))
                asked = (
                    f"ask for {shown(below)}, which leaves {shown(left)} {base} behind"
                    f" ({shown(above)} is more than the {owned_text} held)"
                )
            elif most > 0:
                asked = f"the most it can sell is {shown(most)} (of the {owned_text} {base} held)"
            else:
                asked = f"the {owned_text} {base} held is less than one step"
    raise errors.UserInputError(
        f"amount {amount:.12g} {symbol} is not a whole number of {venue}'s lot step {shown(step)}: {asked}"
        + (" (or let it be cut to the step: --allow-resize)" if can_cut else "")
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
