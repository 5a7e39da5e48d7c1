"""Alternative data: feature time series and the health of the sources that collect them.

A feature value is keyed by (source, name, symbol, ts): ``ts`` is the moment the observation describes
(the start of a sentiment bucket, the day of an index close, a block's time) and ``published_at`` is the
moment it could first have been known. Backtests align on ``published_at``, never on ``ts``, so a
strategy cannot see a value before it existed. Both are epoch milliseconds, UTC, like candle times;
``symbol`` is the base asset ("BTC") or empty for market-wide series (fear & greed, macro indices).

``feature_sources`` keeps each source's last known health and its small private state (items already
seen, open sentiment buckets), so ``mt data sources`` works without the daemon and a restarted daemon
neither double counts nor forgets.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Float, Integer, String, Text
from sqlmodel import Field, SQLModel

from mastertrade.db.types import UTCDateTime, utcnow


class Feature(SQLModel, table=True):
    __tablename__ = "features"
    __table_args__ = {"sqlite_with_rowid": False}

    source: str = Field(sa_column=Column(String(32), primary_key=True, nullable=False))
    name: str = Field(sa_column=Column(String(128), primary_key=True, nullable=False))
    symbol: str = Field(default="", sa_column=Column(String(32), primary_key=True, nullable=False))
    ts: int = Field(sa_column=Column(BigInteger, primary_key=True, nullable=False))
    value: float = Field(sa_column=Column(Float, nullable=False))
    published_at: int = Field(sa_column=Column(BigInteger, nullable=False))


class FeatureSource(SQLModel, table=True):
    __tablename__ = "feature_sources"

    source: str = Field(sa_column=Column(String(32), primary_key=True, nullable=False))
    state: str = Field(sa_column=Column(String(16), nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_success: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_attempt: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_poll: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failures: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    last_values: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    collector_state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
