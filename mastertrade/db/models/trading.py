"""Trading: books, the order journal, fills, ledger entries, equity history, goals, circuit breakers, the
risk audit log and metric snapshots.

- A **book** is one set of balances: the account (``paper`` or ``live``) or the isolated paper book of
  a paper-stage strategy (``strategy:<id>``). Every order, fill and ledger entry belongs to one.
- **orders** is the journal: a row is written (state ``intent``, with our unique ``client_order_id``)
  before anything is sent, and moves through the states of ``engine/orders.py``.
  A sell by hand that sells several owners' coins (the account's own, strategies') keeps each one's share
  (``shares``), which its fills are shared out by.
- **fills** are the only thing positions and balances are computed from (with the ledger entries):
  a position is the sum of its fills, a balance the sum of deposits, adjustments and fill cash flows.
  ``(book, symbol, trade_id)`` is unique, so a fill seen twice (a retry, a reconciliation) is stored
  once; the symbol is part of a trade's identity because exchanges number each market's trades on
  their own (Binance: a BTC/USDT and an ETH/USDT trade can share an id).
  A fill keeps each fee in the asset it was charged in (``fee_asset``, and ``more_fees`` for a trade
  charged in several) and their value in the quote currency where a price was known (``fee_quote``); an
  order keeps its fills' fees by asset (``fees``) and in the quote currency (``fee``, NULL when one of
  them had no price): amounts of different assets are never added. A live sell's last fill keeps the
  least amount the exchange takes in one order (``minimum``): a position it leaves under that is dust, and
  its round trip closes.
- **ledger_entries** are money in and out that is not a fill: the starting cash of a paper book, and for
  a live book the balance found at the exchange that the fills do not explain (deposits, withdrawals),
  each with its reason.
- **equity_points** is the equity history (market time), which goals, drawdown and VaR are computed from.
- **breaker_states** holds each circuit breaker and the kill switch, so a trip survives a restart.
- **risk_audit** records every decision: approve, resize, reject (with the reason), breaker trips and
  resets, halt and resume, reconciliation findings.

Amounts and prices are double precision; market times (``*_ts``) are epoch milliseconds UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from mastertrade.db.types import StrEnumText, UTCDateTime, utcnow
from mastertrade.engine.orders import OrderState


class TradingBook(SQLModel, table=True):
    __tablename__ = "trading_books"

    id: str = Field(sa_column=Column(String(80), primary_key=True, nullable=False))
    mode: str = Field(max_length=8)
    quote: str = Field(max_length=16)
    strategy_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LedgerEntry(SQLModel, table=True):
    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_entries_book", "book"),)

    id: int | None = Field(default=None, primary_key=True)
    book: str = Field(sa_column=Column(String(80), ForeignKey("trading_books.id"), nullable=False))
    asset: str = Field(max_length=16)
    amount: float = Field(sa_column=Column(Float, nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    ts: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OrderRecord(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("client_order_id", name="uq_orders_client_order_id"),
        Index("ix_orders_book_state", "book", "state"),
        Index("ix_orders_strategy", "strategy_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_order_id: str = Field(max_length=40)
    book: str = Field(sa_column=Column(String(80), ForeignKey("trading_books.id"), nullable=False))
    mode: str = Field(max_length=8)
    symbol: str = Field(max_length=32)
    side: str = Field(max_length=4)
    type: str = Field(max_length=8)
    role: str = Field(default="order", max_length=16)
    amount: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    equity_fraction: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    price: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    stop_price: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    trail: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    trail_peak: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    stop_loss: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    take_profit: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    trailing_stop: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    reference_price: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    parent_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    oco: str | None = Field(default=None, max_length=40)
    state: OrderState = Field(sa_column=Column(StrEnumText(OrderState, 20), nullable=False))
    filled: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    cost: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    fee: float | None = Field(default=0.0, sa_column=Column(Float, nullable=True))
    """Its fills' fees in the quote currency; None when one of them is in an asset with no price."""
    fees: dict[str, float] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """Its fills' fees as charged, by asset (None before its first fill)."""
    exchange_order_id: str | None = Field(default=None, max_length=64)
    strategy_id: str | None = Field(default=None, max_length=64)
    shares: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """A sell by hand of several owners' coins: ``[{"strategy_id": "a" or null (the account's own),
    "amount": 0.1}, ...]`` in the order its fills go to them (``execution/order_shares.py``); None: the
    order is ``strategy_id``'s."""
    placed_ts: int = Field(sa_column=Column(BigInteger, nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class FillRecord(SQLModel, table=True):
    __tablename__ = "fills"
    __table_args__ = (
        UniqueConstraint("book", "symbol", "trade_id", name="uq_fills_book_symbol_trade"),
        Index("ix_fills_order", "order_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(sa_column=Column(Integer, ForeignKey("orders.id"), nullable=False))
    book: str = Field(sa_column=Column(String(80), ForeignKey("trading_books.id"), nullable=False))
    symbol: str = Field(max_length=32)
    side: str = Field(max_length=4)
    amount: float = Field(sa_column=Column(Float, nullable=False))
    price: float = Field(sa_column=Column(Float, nullable=False))
    fee: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    fee_asset: str = Field(max_length=16)
    fee_quote: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    """Every fee of the fill valued in the quote currency, at the fill's price (a fee in the base asset)
    or at a price the engine had for a third asset (BNB); None when it had none."""
    more_fees: dict[str, float] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """Fees of the trade in further assets, beside ``fee`` in ``fee_asset`` (a venue that charges one
    trade in two currencies); None for the usual one fee."""
    trade_id: str = Field(max_length=64)
    ts: int = Field(sa_column=Column(BigInteger, nullable=False))
    minimum: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    """On the last fill of a live sell: the least amount the exchange takes in one order (its lot step or
    its minimum amount, whichever is larger); a position the sell leaves under it is dust no sell can take,
    and its round trip closes (``engine/execution/dust.py``). None otherwise (paper, buys, a sell's earlier
    fills, fills stored before it was kept)."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EquityPointRecord(SQLModel, table=True):
    __tablename__ = "equity_points"

    book: str = Field(sa_column=Column(String(80), primary_key=True, nullable=False))
    ts: int = Field(sa_column=Column(BigInteger, primary_key=True, nullable=False))
    equity: float = Field(sa_column=Column(Float, nullable=False))
    cash: float = Field(sa_column=Column(Float, nullable=False))
    positions_value: float = Field(sa_column=Column(Float, nullable=False))


class GoalRecord(SQLModel, table=True):
    __tablename__ = "goals"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    kind: str = Field(max_length=8)
    target: float = Field(sa_column=Column(Float, nullable=False))
    period: str = Field(max_length=8)
    deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BreakerRecord(SQLModel, table=True):
    __tablename__ = "breaker_states"

    name: str = Field(sa_column=Column(String(32), primary_key=True, nullable=False))
    tripped: bool = False
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    tripped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RiskAuditRecord(SQLModel, table=True):
    __tablename__ = "risk_audit"
    __table_args__ = (Index("ix_risk_audit_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    book: str | None = Field(default=None, max_length=80)
    kind: str = Field(max_length=16)
    client_order_id: str | None = Field(default=None, max_length=40)
    strategy_id: str | None = Field(default=None, max_length=64)
    symbol: str | None = Field(default=None, max_length=32)
    side: str | None = Field(default=None, max_length=4)
    requested: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    amount: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class TradingSnapshot(SQLModel, table=True):
    __tablename__ = "trading_snapshots"
    __table_args__ = (Index("ix_trading_snapshots_kind_at", "kind", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    book: str = Field(max_length=80)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
