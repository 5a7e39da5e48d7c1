"""Fees as charged: each in its own asset, and valued in the quote currency only where a price is known.

An exchange charges a trade's fee in the quote asset (USDT), in the base asset (Binance takes a buy's fee
from the coins bought unless BNB pays it) or in a third asset (BNB), and one order's fills can differ
(BNB runs out halfway). Amounts of different assets are never added: an order's fees are kept by asset,
and its fee in the quote currency counts a base-asset fee at the fill's price and a third-asset fee at a
price the engine has (``fee_prices``); without one that figure is unknown (None), never a sum of unlike
amounts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mastertrade.db.models.trading import FillRecord


def trade_fees(trade: Mapping[str, Any], quote: str) -> dict[str, float]:
    """A ccxt trade's fees by asset: every entry of its ``fees`` list (ccxt's full account of them),
    else its ``fee``; an entry without a cost is unknown and left out, one without a currency is in the
    quote asset (ccxt's habit for venues that do not say)."""
    listed = trade.get("fees")
    entries = [item for item in listed if item] if isinstance(listed, list) else []
    if not entries and trade.get("fee"):
        entries = [trade["fee"]]
    fees: dict[str, float] = {}
    for entry in entries:
        cost = entry.get("cost")
        if cost is None:
            continue
        asset = str(entry.get("currency") or quote)
        fees[asset] = fees.get(asset, 0.0) + float(cost)
    return fees


def fill_fees(fill: FillRecord | Any) -> dict[str, float]:
    """A journaled fill's fees by asset (``fee`` in ``fee_asset``, and any further ones)."""
    fees = {fill.fee_asset: float(fill.fee)} if fill.fee_asset else {}
    for asset, cost in (fill.more_fees or {}).items():
        fees[asset] = fees.get(asset, 0.0) + float(cost)
    return fees


def split_fees(fees: Mapping[str, float], quote: str) -> tuple[str, float, dict[str, float] | None]:
    """The first fee (asset, cost) and the others by asset (None when there are none), as a fill row
    stores them (``fee_asset``, ``fee``, ``more_fees``); no fee at all is 0 in the quote asset."""
    items = list(fees.items())
    if not items:
        return quote, 0.0, None
    (asset, cost), rest = items[0], dict(items[1:])
    return asset, cost, rest or None


def fee_value(
    fees: Mapping[str, float], *, base: str, quote: str, price: float, prices: Mapping[str, float]
) -> float | None:
    """``fees`` in the quote currency: a quote fee as it is, a base fee at the fill's ``price``, another
    asset's at ``prices[asset]`` (quote units per unit); None when one has no price."""
    total: list[float] = []
    for asset, cost in fees.items():
        if asset == quote:
            total.append(cost)
        elif asset == base:
            total.append(cost * price)
        elif asset in prices and math.isfinite(prices[asset]):
            total.append(cost * prices[asset])
        elif cost == 0:
            continue
        else:
            return None
    return math.fsum(total)


def order_fees(fills: Iterable[FillRecord | Any]) -> tuple[dict[str, float], float | None]:
    """An order's fees by asset and in the quote currency (None when a fill's fee has no price there)."""
    by_asset: dict[str, list[float]] = {}
    values: list[float] = []
    priced = True
    for fill in fills:
        for asset, cost in fill_fees(fill).items():
            by_asset.setdefault(asset, []).append(cost)
        if fill.fee_quote is None:
            priced = False
        else:
            values.append(fill.fee_quote)
    fees = {asset: math.fsum(costs) for asset, costs in by_asset.items()}
    return fees, (math.fsum(values) if priced else None)
