"""Protective exits of live positions: the daemon's own stop-loss, take-profit and trailing-stop levels.

A live entry of a strategy with a bracket gets one row, written (``pending``, keyed by the entry's client
order id) *before* the entry is sent, so a crash at any point leaves a row that the next start settles
against the order journal:

- ``pending``: the entry is on its way; armed once it has fills.
- ``active``: the levels are watched on every price update (from the entry's average fill price).
- ``triggered``: a level was crossed and the sell got the client order id ``exit_client_order_id``
  (committed before it is journaled and sent, so it fires once); settled from that order's state.
- ``closed``: done (sold, or the position was closed by other means), with the reason.

Levels are prices in the quote currency; ``stop_loss``/``take_profit``/``trailing_stop`` are the
strategy's fractions, ``trail_peak`` the highest high since entry, ``armed_ts`` the market time (epoch ms)
from which whole bars count.

``unprotected_parts`` is the other side: what a bracketed buy asked exits for and that has none at the
exchange (``UnprotectedRecord``). ``owed_exits`` keeps the strategies' exit signals not carried out yet,
their exits resting at the exchange not taken back (``OwedExitRecord``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from mastertrade.db.types import UTCDateTime, utcnow


class ProtectionRecord(SQLModel, table=True):
    __tablename__ = "protections"
    __table_args__ = (
        UniqueConstraint("entry_client_order_id", name="uq_protections_entry_client_order_id"),
        Index("ix_protections_book_state", "book", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    book: str = Field(sa_column=Column(String(80), ForeignKey("trading_books.id"), nullable=False))
    symbol: str = Field(max_length=32)
    strategy_id: str | None = Field(default=None, max_length=64)
    state: str = Field(max_length=16)
    entry_client_order_id: str = Field(max_length=40)
    amount: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    entry_price: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    stop_loss: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    take_profit: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    trailing_stop: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    stop_price: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    take_price: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    trail_peak: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    armed_ts: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    trigger: str | None = Field(default=None, max_length=16)
    trigger_level: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    trigger_seen: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    exit_client_order_id: str | None = Field(default=None, max_length=40)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    triggered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class UnprotectedRecord(SQLModel, table=True):
    """A live position's part that its bracketed buy asked exits for and that has none at the exchange
    (``engine/execution/unprotected.py``): under the exchange's minimum, or its exits refused. One row per
    entry order, written when it is noted and deleted when it is protected again or sold, so a restarted
    daemon still shows the position unprotected and says so again."""

    __tablename__ = "unprotected_parts"
    __table_args__ = (UniqueConstraint("book", "entry_order_id", name="uq_unprotected_parts_book_entry"),)

    id: int | None = Field(default=None, primary_key=True)
    book: str = Field(sa_column=Column(String(80), ForeignKey("trading_books.id"), nullable=False))
    entry_order_id: int = Field(sa_column=Column(Integer, nullable=False))
    symbol: str = Field(max_length=32)
    message: str = Field(sa_column=Column(Text, nullable=False))
    noted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OwedExitRecord(SQLModel, table=True):
    """A live strategy's exit signal not carried out yet: its exits resting at the exchange, which hold its
    coins, could not be taken back (``engine/execution/owed_exits.py``). One row per strategy and symbol,
    written when the exit is owed and deleted when it is paid (sold, or the position gone by other means),
    so a restarted daemon carries the exit out instead of holding on until the strategy's next exit
    signal. ``bar_ts`` is the open time of the bar whose close gave the signal (epoch ms)."""

    __tablename__ = "owed_exits"
    __table_args__ = (
        UniqueConstraint("book", "strategy_id", "symbol", name="uq_owed_exits_book_strategy_symbol"),
    )

    id: int | None = Field(default=None, primary_key=True)
    book: str = Field(sa_column=Column(String(80), ForeignKey("trading_books.id"), nullable=False))
    strategy_id: str = Field(max_length=64)
    symbol: str = Field(max_length=32)
    bar_ts: int = Field(sa_column=Column(BigInteger, nullable=False))
    owed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
