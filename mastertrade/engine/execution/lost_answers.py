"""Reasons the live broker writes on orders whose create proved nothing, shared by a single order
(``live.py``) and an OCO list's legs (``live_oco.py``)."""

from __future__ import annotations

import re

RATE_LIMITED_SEND = "sent, answered as rate-limited: outcome unknown"
"""The reason of an order whose create was answered 429/418 (``_rate_limited``): followed by its send's
number and the most, e.g. "(1 of 5)"; once its arrival window proves it absent, it is sent again."""
RESENDS = re.compile(re.escape(RATE_LIMITED_SEND) + r" \((?P<sent>\d+) of (?P<most>\d+)\)")
DUPLICATE_HELD = "the exchange holds an order with its client id (a resend was refused as a duplicate)"
DUPLICATE = re.compile(r"duplicat", re.IGNORECASE)
"""How venues refuse a client order id they hold already (Binance -2010 "Duplicate order sent.", OKX
"Duplicated clOrdId", Bybit "OrderLinkedID is duplicate")."""


def rate_limited(sends: int, most: int, exc: Exception) -> str:
    """The reason of an order (or a list's leg) whose ``sends``-th create of ``most`` was answered 429/418."""
    return f"{RATE_LIMITED_SEND} ({sends} of {most}): {exc}"


EXPIRED = "expired at the exchange at the first fill of order {sibling}, the other leg of its OCO list"
"""The reason of an OCO leg the exchange no longer shows whose sibling traded (``lost_legs``): the exchange
expires the other legs of a list at the first fill of one, so it never traded."""
