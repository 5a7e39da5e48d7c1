"""Rules that apply to a human's order and not to a strategy's.

- **Never cut silently.** The risk manager may resize an automatic strategy order to fit a limit (the
  resize is audited). A human asked for an amount: an order over a limit is refused with the reason
  unless they asked for resizing (``--allow-resize``); ``refused_resize`` turns the resize into that
  refusal, naming the amount the limits would allow (a buy's rounded down, so it can be ordered).
- **All means all.** A sell of the position as it is shown (``mt positions`` and the refusals print 8
  significant digits) sells all of it: 0.012345679 of 0.0123456789 held was "more than held", refused
  with "sell all 0.012345679", which was refused again; ``as_shown`` tells such a sell.
- **No dust.** An order worth less than the market's minimum (``[risk] min_notional``, and at a live
  exchange its own limits) is bad input, refused before anything is journaled.
- **Placed once.** A command that sends its own client order id and is retried (a timeout, a second
  terminal) gets the order already journaled under that id, not a new one; ``already_placed`` is the
  risk part of that answer. The id names one order: asked again for a different order (another
  symbol, side, type, price or amount, another stop-loss or take-profit, or another book's order),
  ``check_same_order`` refuses it as bad input instead of answering with the old order as if the new
  one had been placed (a buy asked again with a stop-loss was answered with the unprotected one).
"""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import ROUND_DOWN, Decimal
from typing import Any

from mastertrade.db.models.trading import OrderRecord
from mastertrade.engine.risk.check import Decision, Finding, Verdict
from mastertrade.errors import AlreadyExists, UserInputError


def refused_resize(decision: Decision) -> Decision:
    """A resize decision made a rejection (amount 0), its findings kept and the way out named: the
    amount the limits allow, a buy's shown rounded down (``shown_down``) so that ordering it as told
    fits (a sell of the whole position as shown sells all of it: ``as_shown``)."""
    allowed = decision.amount
    shown = shown_down(allowed) if decision.order.side == "buy" else f"{allowed:.8g}"
    hint = (
        Finding(
            decision.findings[0].code,
            f"the limits allow {shown} {decision.order.symbol.split('/')[0]} of the "
            f"{decision.order.amount:.8g} asked: order that amount (or let it be cut:"
            " `mt trade --allow-resize`)",
        )
        if decision.findings
        else None
    )
    findings = (*decision.findings, hint) if hint is not None else decision.findings
    return replace(decision, verdict=Verdict.REJECT, amount=0.0, findings=findings)


def shown_down(amount: float) -> str:
    """``amount`` to 8 significant digits, as every amount is shown, but rounded down instead of to the
    nearest: 6666.66666... allowed reads 6666.6666, not 6666.6667 (a hair over the limit)."""
    if not (math.isfinite(amount) and amount > 0):
        return f"{amount:.8g}"
    exact = Decimal(repr(amount))
    return f"{float(exact.quantize(Decimal(1).scaleb(exact.adjusted() - 7), rounding=ROUND_DOWN)):.8g}"


def already_placed(row: OrderRecord) -> dict[str, Any]:
    """The risk part of the answer to a repeated client order id: nothing new was checked or sent."""
    amount = row.amount or 0.0
    return {
        "verdict": "approve",
        "symbol": row.symbol,
        "side": row.side,
        "requested": amount,
        "amount": amount,
        "price": row.reference_price or row.price or 0.0,
        "reason": f"already placed as order {row.id} (same client order id): not placed again",
        "findings": [],
    }


def check_same_order(
    row: OrderRecord,
    *,
    book: str,
    symbol: str,
    side: str,
    type_: str,
    price: float | None,
    amount: float,
    allow_resize: bool,
    stop_loss: float | None = None,
    take_profit: float | None = None,
) -> None:
    """``AlreadyExists`` when the order journaled under a client order id is not the one asked for
    again, its bracket (``stop_loss``, ``take_profit``) included. A resized order (``allow_resize``)
    may hold less than was asked."""
    asked_price = price if type_ == "limit" else None
    asked_stop = price if type_ == "stop" else None
    held = row.amount if row.amount is not None else 0.0
    same_amount = (
        held == amount
        or (allow_resize and 0 < held <= amount)
        or (side == "sell" and as_shown(amount, held))  # a sell of all as shown holds all (``_place``)
    )
    if (
        row.book == book
        and row.symbol == symbol
        and row.side == side
        and row.type == type_
        and row.price == asked_price
        and row.stop_price == asked_stop
        and same_amount
        and row.stop_loss == stop_loss
        and row.take_profit == take_profit
    ):
        return
    level = row.price if row.price is not None else row.stop_price
    exits = [
        f"{name} {fraction:g}"
        for name, fraction in (("stop-loss", row.stop_loss), ("take-profit", row.take_profit))
        if fraction is not None
    ]
    shown = (
        f"{row.side} {held:.8g} {row.symbol} {row.type}"
        + (f" at {level:.8g}" if level is not None else "")
        + (f" with {' and '.join(exits)}" if exits else "")
    )
    where = "" if row.book == book else f" in book {row.book}"
    raise AlreadyExists(
        f"client order id {row.client_order_id!r} is already order {row.id}{where} ({shown}), not this "
        "order: give this one another --client-order-id"
    )


def as_shown(amount: float, held: float) -> bool:
    """Whether ``amount`` is the ``held`` position as it is shown (8 significant digits), or equal to it
    but for the float residue of its fills (0.19999999999999998 held after 0.3 less 0.1): a sell of
    it means the whole position, a hair above or below what the ledger holds."""
    return held > 0 and (abs(amount - held) <= held * 1e-9 or f"{amount:.8g}" == f"{held:.8g}")


def dust_price(side: str, type_: str, price: float, mark: float | None) -> float:
    """The price an order is worth at for the dust rule: where it trades at the least value. A limit buy
    above the market or a limit sell below it trades at once at the market, and so does a stop sell
    above the market (a stop buy's reference is already the higher of its trigger and the market):
    valued at its own price, 0.00001 BTC with a limit buy at 1,000,000 passed as worth 10 USDT."""
    if mark is None or type_ == "market":
        return price
    if (type_, side) in (("limit", "buy"), ("stop", "sell")):
        return min(price, mark)
    if (type_, side) == ("limit", "sell"):
        return max(price, mark)
    return price


def check_not_dust(symbol: str, amount: float, price: float, minimum: float, quote: str) -> None:
    """``UserInputError`` when ``amount`` at ``price`` is worth less than ``minimum`` (``[risk]
    min_notional``: our own floor, named as such, so it is not taken for the exchange's)."""
    if amount * price < minimum:
        raise UserInputError(
            f"amount {amount:.8g} {symbol} is dust: worth {amount * price:.8g} {quote}, below the "
            f"smallest order of {minimum:g} {quote} ([risk] min_notional)"
        )
