"""The order model: sides, types, states and the transitions between them.

An order's life (``TRANSITIONS`` is the whole truth)::

    intent ──> sent ──> open ──> partially_filled ──> filled
      │          │        │              │
      │          │        └──────────────┴──> cancelled
      │          ├──> filled | cancelled | rejected
      │          └──> unknown ──> open | partially_filled | filled | cancelled | rejected
      └──> cancelled (never sent: stale at restart) | rejected (refused before sending)

- **intent**: written to the journal, with our client order id, *before* anything is sent. A crash
  here leaves an intent that the next start either sends (it is recent, and we know it never left:
  ``sent`` is recorded before the request goes out) or cancels as stale.
- **sent**: recorded just before the request leaves. A crash or a lost answer from here on is resolved
  only by asking the exchange for the order by its client id, never by sending it again.
- **unknown**: the request may or may not have reached the exchange (timeout, 5xx, dropped connection).
  Resolved by fetching the order by client id; an order the exchange does not know once its receive
  window has passed never reached it, and becomes **rejected** ("never reached the exchange"), except
  a leg of an OCO list whose other leg the exchange shows (``execution/lost_legs.py``).
- **filled**, **cancelled**, **rejected** are final, except for one thing: the exchange's word. An
  order we declared never received can still turn up at the exchange (a request delayed beyond every
  window we know of); when its lookup by client id finds it, ``CORRECTIONS`` let the journal take the
  exchange's state and book its fills, with the reason saying it was corrected. A fill is never
  dropped for the sake of the state machine.

Client order ids are ``mt`` + 32 hex digits: unique, and within every exchange's limits (Binance allows
36 characters of ``[.A-Z:/a-z0-9_-]``).
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from enum import StrEnum

from mastertrade.errors import UserInputError


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"


class OrderState(StrEnum):
    INTENT = "intent"
    SENT = "sent"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    UNKNOWN = "unknown"

    @property
    def final(self) -> bool:
        return self in FINAL_STATES

    @property
    def working(self) -> bool:
        """Live at the venue (or may be): it can still fill."""
        return self in (OrderState.OPEN, OrderState.PARTIALLY_FILLED)


FINAL_STATES = frozenset({OrderState.FILLED, OrderState.CANCELLED, OrderState.REJECTED})
RESOLVED_FROM_VENUE = frozenset(
    {
        OrderState.OPEN,
        OrderState.PARTIALLY_FILLED,
        OrderState.FILLED,
        OrderState.CANCELLED,
        OrderState.REJECTED,
    }
)

TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    OrderState.INTENT: frozenset({OrderState.SENT, OrderState.CANCELLED, OrderState.REJECTED}),
    OrderState.SENT: RESOLVED_FROM_VENUE | {OrderState.UNKNOWN},
    OrderState.UNKNOWN: RESOLVED_FROM_VENUE,
    OrderState.OPEN: frozenset({OrderState.PARTIALLY_FILLED, OrderState.FILLED, OrderState.CANCELLED}),
    OrderState.PARTIALLY_FILLED: frozenset(
        {OrderState.PARTIALLY_FILLED, OrderState.FILLED, OrderState.CANCELLED}
    ),
    OrderState.FILLED: frozenset(),
    OrderState.CANCELLED: frozenset(),
    OrderState.REJECTED: frozenset(),
}

# The exchange's word overrides a state we concluded ourselves ("never reached the exchange").
CORRECTIONS: dict[OrderState, frozenset[OrderState]] = {
    OrderState.REJECTED: RESOLVED_FROM_VENUE - {OrderState.REJECTED},
}

# Live orders on these are still at (or on their way to) the venue.
IN_FLIGHT = frozenset({OrderState.SENT, OrderState.UNKNOWN, OrderState.OPEN, OrderState.PARTIALLY_FILLED})


class IllegalTransition(Exception):
    """A state change the order model does not allow (a bug, never a user error)."""


def check_transition(current: OrderState, new: OrderState) -> None:
    if new == current and new is not OrderState.PARTIALLY_FILLED:
        return
    if new not in TRANSITIONS[current]:
        raise IllegalTransition(f"order state {current.value} cannot become {new.value}")


def is_correction(current: OrderState, new: OrderState) -> bool:
    """Whether the exchange saying ``new`` corrects a ``current`` state we concluded on our own."""
    return new in CORRECTIONS.get(current, frozenset())


CLIENT_ORDER_ID = re.compile(r"[A-Za-z0-9._:/-]{1,36}")
"""Client order ids a caller may choose (Binance's alphabet and length, which the others accept too),
except digits alone (``DIGITS_ONLY``)."""

DIGITS_ONLY = (
    "digits alone read as an order id (`mt orders cancel 36` is order 36, not the order whose client "
    "order id is 36): put a letter in it"
)
"""Why a client order id of digits alone is refused: ``mt orders show|cancel ID`` take an order id or a
client order id, and read digits as the order id, so ``--client-order-id 36`` followed by ``mt orders
cancel 36`` cancelled order 36, another order, and left the one placed working."""


def client_order_id_problem(text: str) -> str | None:
    """Why ``text`` cannot be a client order id a caller chooses, or None when it can."""
    if not CLIENT_ORDER_ID.fullmatch(text):
        return "1-36 characters of A-Z a-z 0-9 . _ : / -"
    if text.isdigit():
        return DIGITS_ONLY
    return None


def new_client_order_id() -> str:
    return "mt" + uuid.uuid4().hex


@dataclass(frozen=True)
class OrderRequest:
    """What a caller asks a broker for.

    ``amount`` is in base units. A paper-book entry may instead give ``equity_fraction``: the amount is
    then fixed at the fill, as the backtest does (that fraction of the book's equity at the fill price,
    fee included). ``stop_loss``/``take_profit``/``trailing_stop`` (fractions) attach a bracket to a
    buy: once it fills, exit orders are placed from ``reference_price`` (the signal bar's close).
    ``price`` is the limit price of a limit order, ``stop_price`` the trigger of a stop order.
    """

    symbol: str
    side: Side
    type: OrderType = OrderType.MARKET
    amount: float | None = None
    price: float | None = None
    stop_price: float | None = None
    equity_fraction: float | None = None
    stop_loss: float | None = None
    take_profit: float | None = None
    trailing_stop: float | None = None
    reference_price: float | None = None
    strategy_id: str | None = None
    client_order_id: str | None = None
    role: str = "order"
    """What the order is for: "order" (by hand), "entry" or "exit" (a strategy's signal)."""
    shares: tuple[tuple[str | None, float], ...] = ()
    """A sell by hand of several owners' coins: each owner (a strategy id, None for the account's own)
    and the amount of the sell that is its, in the order its fills go to them
    (``execution/order_shares.py``); empty: the order is ``strategy_id``'s (the account's when None)."""

    def validate(self) -> OrderRequest:
        """Raise ``UserInputError`` naming the bad value; return self when the request is well formed."""
        if "/" not in self.symbol:
            raise UserInputError(f"invalid symbol {self.symbol!r}: expected BASE/QUOTE, like BTC/USDT")
        if (self.amount is None) == (self.equity_fraction is None):
            raise UserInputError("an order needs exactly one of an amount or an equity fraction")
        if self.amount is not None and not _positive(self.amount):
            raise UserInputError(f"invalid amount {self.amount!r}: must be a positive number")
        if self.equity_fraction is not None and not (0 < self.equity_fraction <= 1):
            raise UserInputError(f"invalid equity fraction {self.equity_fraction!r}: must be in (0, 1]")
        if self.type is OrderType.LIMIT and not _positive(self.price):
            raise UserInputError(f"a limit order needs a positive --price (got {self.price!r})")
        if self.type is OrderType.STOP and not _positive(self.stop_price):
            raise UserInputError(f"a stop order needs a positive --price (got {self.stop_price!r})")
        if self.type is OrderType.MARKET and (self.price is not None or self.stop_price is not None):
            raise UserInputError("a market order takes no --price; use --type limit or --type stop")
        for name in ("stop_loss", "trailing_stop"):
            value = getattr(self, name)
            if value is not None and not (0 < value < 1):
                raise UserInputError(f"invalid {name} {value!r}: must be a fraction between 0 and 1")
        if self.take_profit is not None and not _positive(self.take_profit):
            raise UserInputError(f"invalid take_profit {self.take_profit!r}: must be a positive fraction")
        if self.has_bracket and self.side is not Side.BUY:
            raise UserInputError("stop-loss, take-profit and trailing stops attach to buys only")
        if self.has_bracket and not _positive(self.reference_price):
            raise UserInputError("a bracket needs the reference price its stops are measured from")
        owned = self.strategy_id is not None
        if self.shares and (self.side is not Side.SELL or self.amount is None or owned):
            raise UserInputError("only a sell by hand of an amount is shared among its coins' owners")
        return self

    @property
    def has_bracket(self) -> bool:
        return any(value is not None for value in (self.stop_loss, self.take_profit, self.trailing_stop))


def _positive(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value > 0
