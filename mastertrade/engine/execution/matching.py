"""How paper orders fill: the backtest's rules applied to working orders, one price update at a time.

This is pure: ``match`` takes the working orders of one symbol in one book, the book's cash and position,
and one update of the symbol's current bar, and returns the fills and order changes it causes. The paper
broker journals them. The rules are the backtest's (``engine/backtest/__init__.py``), so a paper-stage
strategy trades exactly as its backtest did:

1. **Market orders** placed at or before a bar's open (``placed_ts <= bar.ts``: a strategy's order placed
   on the close of the bar before) fill at that bar's open, on its first update. An order placed inside
   a forming bar (a manual order) fills at the next price seen. Buys given as an equity fraction are
   sized at the fill with the backtest's formula (whole 1e-8 units, fee included); a buy that cash
   cannot cover is cut to what it can (the rest cancelled), a sell to the position held.
2. When an entry with a bracket fills, its exit orders (stop-loss and take-profit, one-cancels-other)
   are armed for the amount filled, their levels from the fill price, and are live in the same bar, as
   in the backtest.
3. **Limit and stop orders** are checked once the bar is closed, against its high and low: a sell stop
   triggers at ``low <= stop`` and fills at ``min(open, stop)`` (a gap below the stop fills at the open),
   a sell limit at ``high >= limit`` and fills at ``max(open, limit)``; buy limits and buy stops mirror
   them. Among the orders of one one-cancels-other group that trigger in the same bar the stop wins (the
   stop-loss counts when both are reached); the others are cancelled. An order placed inside the bar is
   checked against the prices seen after it was placed (each update as a one-price bar) instead.
4. **Trailing stops**: at each close, the peak becomes the bar's high if higher and the stop rises to
   ``peak x (1 - trail)`` when that is above it, effective from the next bar; it never moves down.

Slippage (a fraction) makes market and stop fills worse (buys higher, sells lower); limit fills are at
the limit or better. Fees are a fraction of each fill's value, in quote currency.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from mastertrade.engine.candle import Bar
from mastertrade.engine.orders import OrderState, OrderType

UNIT = 1 / 100e6
"""Fills are whole multiples of this fraction of a unit (backtesting.py's FractionalBacktest satoshi,
``engine.backtest.result.FRACTIONAL_UNIT``)."""
_FULL_EQUITY = 1.0 - 2.220446049250313e-16  # the backtest's "all equity" order size


@dataclass(frozen=True)
class WorkingOrder:
    """The part of an order that matching needs (the journal's row, trimmed)."""

    id: int
    side: str
    type: OrderType
    state: OrderState
    placed_ts: int
    amount: float | None = None
    equity_fraction: float | None = None
    price: float | None = None
    stop_price: float | None = None
    trail: float | None = None
    trail_peak: float | None = None
    oco: str | None = None
    parent_id: int | None = None
    role: str = "order"
    filled: float = 0.0
    stop_loss: float | None = None
    take_profit: float | None = None
    trailing_stop: float | None = None
    reference_price: float | None = None

    @property
    def remaining(self) -> float | None:
        return None if self.amount is None else self.amount - self.filled

    @property
    def armed(self) -> bool:
        """Working: open (a bracket exit waits as an intent until its entry fills)."""
        return self.state.working


@dataclass(frozen=True)
class BookView:
    """What matching needs of the book: cash in quote, the position in this symbol, and the value of the
    rest of the book (other positions at their marks), for equity-fraction sizing."""

    cash: float
    position: float
    other_value: float = 0.0


@dataclass(frozen=True)
class PaperFill:
    order_id: int
    side: str
    amount: float
    price: float
    fee: float
    ts: int
    role: str


@dataclass
class MatchResult:
    fills: list[PaperFill] = field(default_factory=list)
    changed: dict[int, WorkingOrder] = field(default_factory=dict)
    """Orders whose state, amount, stop or peak changed (by id), as they are now."""
    reasons: dict[int, str] = field(default_factory=dict)
    """Why an order was cancelled, cut or armed."""


class _Session:
    """One ``match`` call's running state."""

    def __init__(self, orders: Sequence[WorkingOrder], book: BookView, fee: float, slippage: float) -> None:
        self.orders = {order.id: order for order in orders}
        self.cash = book.cash
        self.position = book.position
        self.other_value = book.other_value
        self.fee = fee
        self.slippage = slippage
        self.result = MatchResult()

    def update(self, order: WorkingOrder, reason: str | None = None) -> None:
        self.orders[order.id] = order
        self.result.changed[order.id] = order
        if reason:
            self.result.reasons[order.id] = reason

    def cancel(self, order: WorkingOrder, reason: str) -> None:
        self.update(replace(order, state=OrderState.CANCELLED), reason)
        for child in list(self.orders.values()):
            if child.parent_id == order.id and child.state is OrderState.INTENT:
                self.update(replace(child, state=OrderState.CANCELLED), f"its entry {order.id} was cancelled")

    def fill(self, order: WorkingOrder, amount: float, price: float, ts: int, *, complete: bool) -> None:
        value = amount * price
        fee = value * self.fee
        if order.side == "buy":
            self.cash -= value + fee
            self.position += amount
        else:
            self.cash += value - fee
            self.position -= amount
        self.result.fills.append(PaperFill(order.id, order.side, amount, price, fee, ts, order.role))
        filled = order.filled + amount
        total = order.amount if order.amount is not None else filled
        state = OrderState.FILLED if complete else OrderState.PARTIALLY_FILLED
        self.update(replace(order, filled=filled, amount=total, state=state))
        if order.side == "buy":
            self.arm_children(order, filled, price)
        elif order.oco is not None:
            for sibling in list(self.orders.values()):
                if sibling.oco == order.oco and sibling.id != order.id and not sibling.state.final:
                    self.cancel(sibling, f"one-cancels-other: order {order.id} filled")
        if order.side == "sell" and self.position <= 0:
            # Nothing left: exit orders still waiting for this position have nothing to sell.
            for other in list(self.orders.values()):
                if (
                    other.side == "sell"
                    and other.id != order.id
                    and other.armed
                    and other.parent_id is not None
                ):
                    self.cancel(other, "position closed")

    def arm_children(self, entry: WorkingOrder, amount: float, price: float) -> None:
        """Arm the entry's bracket exits for what it filled, their levels from its fill ``price`` (the
        backtest's stops come from the fill, rule 5: the close the entry was decided on is not the
        open it fills at when the market gaps). Levels stay as journaled when the entry carries no
        fractions (an order journaled before they were kept)."""
        for child in list(self.orders.values()):
            if child.parent_id == entry.id and child.state is OrderState.INTENT:
                armed = replace(_priced(entry, child, price), amount=amount, state=OrderState.OPEN)
                self.update(armed, f"armed for {amount:.8g} when entry {entry.id} filled at {price:.8g}")

    def sellable(self, order: WorkingOrder) -> float:
        remaining = order.remaining
        assert remaining is not None
        return min(remaining, max(0.0, self.position))


def _priced(entry: WorkingOrder, child: WorkingOrder, price: float) -> WorkingOrder:
    """A bracket exit with its levels from the entry's fill ``price``: the stop at the higher of the
    fixed stop-loss and the trailing level (its peak the fill), the take-profit limit above it."""
    if child.type is OrderType.STOP:
        fractions = [f for f in (entry.stop_loss, entry.trailing_stop) if f is not None]
        if not fractions:
            return child
        peak = price if child.trail is not None else child.trail_peak
        return replace(child, stop_price=price * (1 - min(fractions)), trail_peak=peak)
    if child.type is OrderType.LIMIT and entry.take_profit is not None:
        return replace(child, price=price * (1 + entry.take_profit))
    return child


def _adverse(price: float, side: str, slippage: float) -> float:
    return price * (1 + slippage) if side == "buy" else price * (1 - slippage)


def fraction_units(equity: float, size: float, price: float, fee: float) -> float:
    """The amount a buy of ``size`` of ``equity`` gets at ``price``: the backtest's sizing, in whole units
    of ``UNIT`` (0 when not one unit is affordable)."""
    order_size = size if size < 1.0 else _FULL_EQUITY
    scaled = price * UNIT
    unit_cost = scaled + (order_size * scaled * fee) / order_size
    units = (equity * order_size) // unit_cost
    if units >= 1.0 and not units * unit_cost > equity:
        return units * UNIT
    return 0.0


def affordable(cash: float, price: float, fee: float) -> float:
    """The largest amount in whole ``UNIT``s whose cost with fee fits in ``cash``."""
    if cash <= 0 or price <= 0:
        return 0.0
    units = math.floor(cash / (price * (1 + fee)) / UNIT)
    while units > 0 and units * UNIT * price * (1 + fee) > cash:
        units -= 1
    return units * UNIT


def match(
    orders: Sequence[WorkingOrder],
    bar: Bar,
    book: BookView,
    *,
    fee: float,
    slippage: float = 0.0,
) -> MatchResult:
    """Fills and order changes caused by one update of the bar (see the module docstring)."""
    session = _Session(orders, book, fee, slippage)
    _market_orders(session, bar)
    if bar.closed:
        _resting_orders(session, bar, full=True)
        _trail(session, bar)
    _resting_orders(session, bar, full=False)
    return session.result


def _market_orders(session: _Session, bar: Bar) -> None:
    for order_id in sorted(session.orders):
        order = session.orders[order_id]
        if order.type is not OrderType.MARKET or not order.armed:
            continue
        price = bar.open if order.placed_ts <= bar.ts else bar.close
        price = _adverse(price, order.side, session.slippage)
        _fill_at(session, order, price, bar.ts)


def _fill_at(session: _Session, order: WorkingOrder, price: float, ts: int) -> None:
    """Fill an order's remainder at ``price``, within what the book can pay for or deliver."""
    if order.side == "buy":
        if order.amount is None:
            assert order.equity_fraction is not None
            equity = session.cash + session.position * price + session.other_value
            amount = fraction_units(equity, order.equity_fraction, price, session.fee)
            if amount <= 0:
                session.cancel(order, f"not one unit affordable at {price:.8g}")
                return
            session.update(replace(order, amount=amount))
            session.fill(session.orders[order.id], amount, price, ts, complete=True)
            return
        wanted = order.remaining
        assert wanted is not None
        if wanted * price * (1 + session.fee) <= session.cash:
            session.fill(order, wanted, price, ts, complete=True)
            return
        amount = affordable(session.cash, price, session.fee)
        if amount > 0:
            session.fill(order, amount, price, ts, complete=False)
            order = session.orders[order.id]
        session.cancel(
            order, f"insufficient cash at fill: {session.cash:.2f} for {wanted:.8g} at {price:.8g}"
        )
        return
    wanted = order.remaining
    assert wanted is not None
    amount = session.sellable(order)
    if amount <= 0:
        session.cancel(order, "no position left to sell")
        return
    if amount >= wanted:
        session.fill(order, wanted, price, ts, complete=True)
        return
    session.fill(order, amount, price, ts, complete=False)
    session.cancel(
        session.orders[order.id], f"position smaller than the order: sold {amount:.8g} of {wanted:.8g}"
    )


def _trigger(order: WorkingOrder, o: float, h: float, low: float) -> float | None:
    """The fill price if the order triggers in a bar (o, h, low), else None."""
    if order.type is OrderType.STOP:
        stop = order.stop_price
        assert stop is not None
        if order.side == "sell":
            return min(o, stop) if low <= stop else None
        return max(o, stop) if h >= stop else None
    limit = order.price
    assert limit is not None
    if order.side == "sell":
        return max(o, limit) if h >= limit else None
    return min(o, limit) if low <= limit else None


def _resting_orders(session: _Session, bar: Bar, *, full: bool) -> None:
    """Limit and stop orders: on a closed bar those placed by its open (``full``), against the bar's
    range; on any update those placed inside the bar, against its latest price."""
    candidates = [
        order
        for order in session.orders.values()
        if order.type is not OrderType.MARKET
        and order.armed
        and ((order.placed_ts <= bar.ts) if full else (order.placed_ts > bar.ts))
    ]
    if full:
        o, h, low = bar.open, bar.high, bar.low
    else:
        o = h = low = bar.close
    triggered: list[tuple[WorkingOrder, float]] = []
    for order in candidates:
        price = _trigger(order, o, h, low)
        if price is not None:
            triggered.append((order, price))
    # Stops before limits (the stop-loss counts when both are reached), then by placement.
    triggered.sort(key=lambda item: (item[0].type is not OrderType.STOP, item[0].id))
    for order, price in triggered:
        current = session.orders[order.id]
        if not current.armed:
            continue  # cancelled by a sibling that filled first
        if current.type is OrderType.STOP:
            price = _adverse(price, current.side, session.slippage)
        _fill_at(session, current, price, bar.ts)


def _trail(session: _Session, bar: Bar) -> None:
    for order in list(session.orders.values()):
        if (
            order.trail is None
            or not order.armed
            or order.type is not OrderType.STOP
            or order.placed_ts > bar.ts
        ):
            continue
        peak = max(order.trail_peak or bar.high, bar.high)
        level = peak * (1 - order.trail)
        stop = order.stop_price or 0.0
        if level > stop:
            session.update(replace(order, trail_peak=peak, stop_price=level, role="trailing_stop"))
        elif peak != order.trail_peak:
            session.update(replace(order, trail_peak=peak))
