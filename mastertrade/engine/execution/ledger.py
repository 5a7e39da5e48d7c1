"""Positions, balances and P&L as a fold over fills: the single definition of what a book holds.

A book's state is never stored and updated on its own: it is computed by applying its ledger entries
(deposits, reconciliation adjustments) and its fills, in the order they were recorded, to an empty
``Ledger``. So "positions and balances equal the sum of fills" holds by construction, and the property
tests check it against a plain sum.

Per fill of ``amount`` base units at ``price`` with ``fee`` in ``fee_asset`` (spot, symbol BASE/QUOTE):

- balances: a buy adds ``amount`` BASE and takes ``amount x price`` QUOTE; a sell the reverse; each fee
  is taken from its own asset (QUOTE usually; BASE on some exchanges' buys; a third asset such as BNB).
- a fee's value in QUOTE: a QUOTE fee as it is, a BASE fee at the fill's price, a third asset's at the
  price the broker had for it when it journaled the fill (``FillRecord.fee_quote``); without one it is
  **unpriced**: kept by asset (``unpriced_fees``) and left out of the P&L, which says so, rather than
  added to QUOTE amounts. Coins of a third asset the book holds as a position (``BNB/USDT``) are spent
  out of that position, with their share of its cost; paid at a price above or below that cost, the
  difference is realised there.
- position (average cost): a buy adds its amount (less a fee paid in BASE) and its value plus its QUOTE
  and third-asset fees' value to the cost basis. A sell removes its amount (plus a BASE fee) at the
  average cost and realises ``proceeds - QUOTE and third-asset fees - cost removed``.
- a **round trip** runs from a position opening (from flat) to its closing (back to flat); its P&L is the
  sum of what it realised, and its return that P&L over the cost of everything bought in it. Round trips
  are what Kelly statistics, consecutive-loss breakers and the parity report are built from. A position
  closes at a remainder that is float dust (``DUST``), or, live, at one under the least the exchange takes
  in one sell (the fill's ``minimum``): no sell can take it, so the trade is over; that remainder's cost
  goes into the trip's P&L, and the coins stay held at no cost for the next position (``dust.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mastertrade.db.models.trading import FillRecord

# A remaining position worth less than this fraction of the amount that was held counts as flat: float
# rounding of partial sells must not keep a round trip open forever.
DUST = 1e-9
MINIMUM_HAIR = 1e-9
"""How far under a live fill's ``minimum`` (a fraction of it) a remainder must be to count as dust: a float
sum a hair under a sellable amount is sellable."""


def split_symbol(symbol: str) -> tuple[str, str]:
    base, _, quote = symbol.partition("/")
    quote = quote.split(":")[0]
    return base, quote


@dataclass(frozen=True)
class Fill:
    """One fill as the ledger sees it (``ts``: market time, epoch ms)."""

    symbol: str
    side: str
    amount: float
    price: float
    fee: float = 0.0
    fee_asset: str | None = None
    ts: int = 0
    order_id: int | None = None
    role: str = "order"
    fee_quote: float | None = None
    """All its fees in QUOTE (``FillRecord.fee_quote``); None: worked out from its own price where it can
    be (QUOTE and BASE fees), unknown for a third asset."""
    more_fees: Mapping[str, float] | None = None
    minimum: float | None = None
    """On a live sell's last fill: the least amount the exchange takes in one order (lot step, minimum
    amount); a position the sell leaves under it is dust no sell can take, and its round trip closes
    (``dust.py``)."""

    @property
    def value(self) -> float:
        return self.amount * self.price

    def fees(self, quote: str) -> dict[str, float]:
        """Its fees by asset (a fee without an asset is in ``quote``)."""
        fees = {self.fee_asset or quote: self.fee}
        for asset, cost in (self.more_fees or {}).items():
            fees[asset] = fees.get(asset, 0.0) + cost
        return fees

    def part(self, amount: float) -> Fill:
        """``amount`` of this fill, with that share of each of its fees (one owner's part of a fill of a
        sell by hand of several owners' coins: ``order_shares``)."""
        if amount == self.amount:
            return self
        share = amount / self.amount
        return replace(
            self,
            amount=amount,
            fee=self.fee * share,
            fee_quote=self.fee_quote * share if self.fee_quote is not None else None,
            more_fees={asset: cost * share for asset, cost in self.more_fees.items()}
            if self.more_fees
            else self.more_fees,
        )

    @classmethod
    def of(cls, record: FillRecord, role: str) -> Fill:
        """The ledger's view of a journaled fill of an order with ``role`` (entry, exit, order ...)."""
        return cls(
            record.symbol,
            record.side,
            record.amount,
            record.price,
            record.fee,
            record.fee_asset,
            record.ts,
            record.order_id,
            role,
            record.fee_quote,
            record.more_fees,
            record.minimum,
        )


@dataclass(frozen=True)
class RoundTrip:
    """A position from opening to closing: average buy and sell prices, the cost (fees included) and
    the P&L net of all fees."""

    symbol: str
    entry_ts: int
    exit_ts: int
    amount: float
    entry_price: float
    exit_price: float
    cost: float
    pnl: float
    exit_role: str
    unpriced_fees: Mapping[str, float] = field(default_factory=dict)
    """Fees in assets with no price in QUOTE, left out of ``pnl`` (by asset)."""

    @property
    def return_(self) -> float:
        return self.pnl / self.cost if self.cost > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            **({"unpriced_fees": dict(self.unpriced_fees)} if self.unpriced_fees else {}),
            "symbol": self.symbol,
            "entry_ts": self.entry_ts,
            "exit_ts": self.exit_ts,
            "amount": self.amount,
            "entry_price": self.entry_price,
            "exit_price": self.exit_price,
            "pnl": self.pnl,
            "return": self.return_,
            "exit": self.exit_role,
        }


@dataclass
class Position:
    """A long position in one symbol (average-cost basis, quote currency).

    ``realised`` and ``fees`` are the symbol's over every round trip of the book; ``trip_realised`` and
    ``trip_fees`` those of the open one (the position as it stands, since ``opened_ts``)."""

    symbol: str
    amount: float = 0.0
    cost: float = 0.0
    realised: float = 0.0
    fees: float = 0.0
    opened_ts: int | None = None
    # the open round trip's running figures
    trip_bought: float = 0.0
    trip_cost: float = 0.0
    trip_value: float = 0.0
    trip_realised: float = 0.0
    trip_sold: float = 0.0
    trip_proceeds: float = 0.0
    trip_fees: float = 0.0
    peak_amount: float = 0.0
    unpriced_fees: dict[str, float] = field(default_factory=dict)
    """Fees in assets with no price in QUOTE, by asset: left out of ``fees`` and the P&L (every trip)."""
    trip_unpriced_fees: dict[str, float] = field(default_factory=dict)

    @property
    def average_price(self) -> float | None:
        return self.cost / self.amount if self.amount > 0 else None

    def unrealised(self, mark: float) -> float:
        return self.amount * mark - self.cost if self.amount > 0 else 0.0

    def as_dict(self, mark: float | None = None) -> dict[str, Any]:
        """The open position: its realised P&L and fees are its own (since it opened); the symbol's
        over every round trip of the book are ``symbol_realised_pnl`` and ``symbol_fees``. Without a
        ``mark`` its value is at cost (``value_at_cost``) and its unrealised P&L unknown."""
        return {
            "symbol": self.symbol,
            "amount": self.amount,
            "average_price": self.average_price,
            "cost": self.cost,
            "mark": mark,
            # with no price yet (just after a restart) at cost, as the balance and equity count it
            "value": self.amount * (mark if mark is not None else self.average_price or 0.0),
            "value_at_cost": mark is None,
            "unrealised_pnl": self.unrealised(mark) if mark is not None else None,
            "realised_pnl": self.trip_realised,
            "fees": self.trip_fees,
            "unpriced_fees": dict(self.trip_unpriced_fees),
            "symbol_realised_pnl": self.realised,
            "symbol_fees": self.fees,
            "symbol_unpriced_fees": dict(self.unpriced_fees),
            "opened_ts": self.opened_ts,
        }


@dataclass
class Ledger:
    """Balances per asset and positions per symbol of one book, built by ``deposit`` and ``apply``."""

    balances: dict[str, float] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    round_trips: list[RoundTrip] = field(default_factory=list)
    booked: dict[int, float] = field(default_factory=dict)
    """Order id -> the amount of its fills applied here: what of a working order the book already holds
    (its journal row, read at another moment, may not say so yet)."""

    @classmethod
    def replay(cls, entries: Iterable[tuple[str, float]], fills: Iterable[Fill]) -> Ledger:
        """The ledger of ledger entries (asset, amount) and fills, each in the order recorded."""
        ledger = cls()
        for asset, amount in entries:
            ledger.deposit(asset, amount)
        for fill in fills:
            ledger.apply(fill)
        return ledger

    def balance(self, asset: str) -> float:
        return self.balances.get(asset, 0.0)

    def deposit(self, asset: str, amount: float) -> None:
        self.balances[asset] = self.balance(asset) + amount

    def position(self, symbol: str) -> Position:
        found = self.positions.get(symbol)
        if found is None:
            found = self.positions[symbol] = Position(symbol)
        return found

    def held(self, symbol: str) -> float:
        found = self.positions.get(symbol)
        return found.amount if found else 0.0

    def open_amount(self, symbol: str) -> float:
        """What is held of ``symbol`` in an open position (a dust remainder after a close is none)."""
        position = self.positions.get(symbol)
        return position.amount if position is not None and position.opened_ts is not None else 0.0

    def apply(self, fill: Fill) -> RoundTrip | None:
        """Book one fill; returns the round trip it closed, if any."""
        if fill.order_id is not None:
            self.booked[fill.order_id] = self.booked.get(fill.order_id, 0.0) + fill.amount
        base, quote = split_symbol(fill.symbol)
        value = fill.amount * fill.price
        fees = fill.fees(quote)
        quote_fee = fees.get(quote, 0.0)
        base_fee = fees.get(base, 0.0)
        others = {asset: cost for asset, cost in fees.items() if asset not in (base, quote) and cost}
        position = self.position(fill.symbol)
        if fill.side == "buy" and position.opened_ts is None:
            position.opened_ts = fill.ts
            position.trip_bought = position.trip_cost = position.trip_value = position.trip_realised = 0.0
            position.trip_sold = position.trip_proceeds = position.peak_amount = 0.0
            position.trip_fees = 0.0
            position.trip_unpriced_fees = {}
        other_value = self._third_asset_fees(others, fill, quote, quote_fee + base_fee * fill.price, position)
        fee_value = quote_fee + base_fee * fill.price + other_value
        position.fees += fee_value
        position.trip_fees += fee_value
        if fill.side == "buy":
            self.balances[base] = self.balance(base) + fill.amount
            self.balances[quote] = self.balance(quote) - value
            self._pay(fees)
            position.amount += fill.amount - base_fee
            position.cost += value + quote_fee + other_value
            position.trip_bought += fill.amount
            position.trip_cost += value + quote_fee + other_value
            position.trip_value += value
            position.peak_amount = max(position.peak_amount, position.amount)
            return None
        self.balances[base] = self.balance(base) - fill.amount
        self.balances[quote] = self.balance(quote) + value
        self._pay(fees)
        removed = fill.amount + base_fee
        if position.amount > 0:
            share = min(1.0, removed / position.amount)
            cost_out = position.cost * share
        else:
            cost_out = 0.0
        realised = value - quote_fee - other_value - cost_out
        position.amount -= removed
        position.cost -= cost_out
        position.realised += realised
        position.trip_realised += realised
        position.trip_sold += fill.amount
        position.trip_proceeds += value
        if position.opened_ts is None:
            return None
        if position.amount <= DUST * position.peak_amount:
            position.cost = 0.0
        elif _dust_left(position, fill):
            # No sell can take what is left: the trade that left it is charged its cost (as a fee is), and
            # the coins stay held at no cost, for the next position to take in (``dust.py``).
            position.realised -= position.cost
            position.trip_realised -= position.cost
            position.cost = 0.0
        else:
            return None
        trip = RoundTrip(
            fill.symbol,
            position.opened_ts,
            fill.ts,
            position.trip_bought,
            position.trip_value / position.trip_bought if position.trip_bought > 0 else math.nan,
            position.trip_proceeds / position.trip_sold if position.trip_sold > 0 else math.nan,
            position.trip_cost,
            position.trip_realised,
            fill.role,
            dict(position.trip_unpriced_fees),
        )
        self.round_trips.append(trip)
        position.opened_ts = None
        return trip

    def _pay(self, fees: Mapping[str, float]) -> None:
        """Each fee out of its asset's balance (after the trade's own flows: the sums stay in the order a
        plain running total takes them)."""
        for asset, cost in fees.items():
            self.balances[asset] = self.balance(asset) - cost

    def _third_asset_fees(
        self, others: Mapping[str, float], fill: Fill, quote: str, own_value: float, position: Position
    ) -> float:
        """The value in ``quote`` of a fill's fees in third assets (``others``), spending the coins of
        them the book holds as positions; a fee with no price goes into ``position``'s unpriced fees
        and counts 0 here."""
        if not others:
            return 0.0
        # the broker's value of them all (its price at the fill), less the fill's own QUOTE and BASE fees
        known = fill.fee_quote - own_value if fill.fee_quote is not None else None
        total = 0.0
        for asset, cost in others.items():
            value = known if len(others) == 1 else None
            value = self._spend(asset, cost, value, quote)
            if value is None:
                position.unpriced_fees[asset] = position.unpriced_fees.get(asset, 0.0) + cost
                position.trip_unpriced_fees[asset] = position.trip_unpriced_fees.get(asset, 0.0) + cost
            else:
                total += value
        return total

    def _spend(self, asset: str, cost: float, value: float | None, quote: str) -> float | None:
        """``cost`` coins of ``asset`` paid as a fee: out of the book's position in ``asset/quote`` when it
        holds one, with their share of its cost basis (paid at ``value``, the difference from that cost
        is realised there; with no ``value``, the coins are valued at what they cost). Returns the fee's
        value, None when it has none."""
        held = self.positions.get(f"{asset}/{quote}")
        if held is None or held.amount <= 0 or cost <= 0:
            return value
        taken = min(cost, held.amount)
        cost_out = held.cost * taken / held.amount
        if value is None and taken >= cost * (1 - DUST):
            value = cost_out
        if value is not None:
            gain = value * taken / cost - cost_out
            held.realised += gain
            held.trip_realised += gain
        held.amount -= taken
        held.cost -= cost_out
        if held.amount <= DUST * held.peak_amount:
            held.amount = held.cost = 0.0
            held.opened_ts = None  # spent on fees: the next buy opens a new position
        return value

    def unpriced_fees(self) -> dict[str, float]:
        """Fees of every fill in assets with no price in the quote currency, by asset (left out of P&L)."""
        total: dict[str, float] = {}
        for position in self.positions.values():
            for asset, cost in position.unpriced_fees.items():
                total[asset] = total.get(asset, 0.0) + cost
        return total

    # --- valuation ------------------------------------------------------------------------------

    def equity(self, quote: str, marks: dict[str, float]) -> float:
        """Quote balance plus every position at its mark (positions without a mark at their cost)."""
        value = self.balance(quote)
        for symbol, position in self.positions.items():
            if position.amount > 0 and split_symbol(symbol)[1] == quote:
                mark = marks.get(symbol)
                value += position.amount * mark if mark is not None else position.cost
        return value

    def positions_value(self, quote: str, marks: dict[str, float]) -> float:
        return self.equity(quote, marks) - self.balance(quote)

    def open_positions(self) -> list[Position]:
        """Positions in an open round trip (a dust remainder after a close is not one)."""
        return [p for p in self.positions.values() if p.amount > 0 and p.opened_ts is not None]


def _dust_left(position: Position, fill: Fill) -> bool:
    """Whether a live sell ``fill`` left ``position`` with less than the exchange takes in one order (its
    ``minimum``): dust no sell can take (``dust.py``). A hair under the minimum (float sums) is not."""
    return fill.minimum is not None and 0 < position.amount < fill.minimum * (1 - MINIMUM_HAIR)
