"""A market's price tick, as the exchange quotes it (Binance's ``PRICE_FILTER`` tick size: 0.01 for
BTC/USDT), read from the markets a ccxt client has loaded already: no request is made for it.

The morning report and ``mt status`` round prices to it; a venue that gives none (the simulated market,
a client that has not loaded its markets, significant-digit precision) has no tick, and prices are shown
at a sensible precision instead (``mastertrade.prices``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

# ccxt's precision modes (ccxt.base.decimal_to_precision), spelled here so that a status request does
# not import ccxt where no exchange runs
DECIMAL_PLACES = 2
TICK_SIZE = 4


def price_tick(exchange: Any, symbol: str) -> float | None:
    """The price tick of ``symbol`` on ``exchange`` (a ccxt client), or None when it is not known."""
    markets = getattr(exchange, "markets", None)
    if not isinstance(markets, dict):
        return None
    market = markets.get(symbol)
    if not isinstance(market, dict):
        return None
    precision = (market.get("precision") or {}).get("price")
    if precision is None:
        return None
    mode = getattr(exchange, "precisionMode", None)
    try:
        if mode == TICK_SIZE:
            step = Decimal(str(precision))
        elif mode == DECIMAL_PLACES:
            step = Decimal(1).scaleb(-int(precision))
        else:
            return None
    except (ArithmeticError, ValueError, TypeError):
        return None
    return float(step) if step.is_finite() and step > 0 else None
