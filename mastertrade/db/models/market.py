"""Market data: one row per candle series and the candles themselves.

A candle is keyed by (exchange, symbol, timeframe, ts) through its series: the series row holds the
three names once, so a million candles do not repeat them a million times. Timestamps are epoch
milliseconds, UTC, of the bar's open. On SQLite the candles table is WITHOUT ROWID, clustered on its
key, so reading a year of one series is one contiguous range scan.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from mastertrade.db.types import UTCDateTime, utcnow


class Series(SQLModel, table=True):
    __tablename__ = "series"
    __table_args__ = (UniqueConstraint("exchange", "symbol", "timeframe", name="uq_series_key"),)

    id: int | None = Field(default=None, primary_key=True)
    exchange: str = Field(max_length=64)
    symbol: str = Field(max_length=64)
    timeframe: str = Field(max_length=8)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Candle(SQLModel, table=True):
    __tablename__ = "candles"
    __table_args__ = {"sqlite_with_rowid": False}

    series_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("series.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    ts: int = Field(sa_column=Column(BigInteger, primary_key=True, nullable=False))
    open: float
    high: float
    low: float
    close: float
    volume: float
