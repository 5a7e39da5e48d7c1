"""Alternative data: feature time series and the health of the sources that collect them.

A feature value is keyed by (source, name, symbol, ts): ``ts`` is the moment the observation describes
(the start of a sentiment bucket, the day of an index close, a block's time) and ``published_at`` is the
moment it could first have been known. Backtests align on ``published_at``, never on ``ts``, so a
strategy cannot see a value before it existed. Both are epoch milliseconds, UTC, like candle times;
``symbol`` is the base asset ("BTC") or empty for market-wide series (fear & greed, macro indices).

``origin_id`` names what a value was derived from, when the store knows it: a row of
``feature_origins``, the candle series and seed of the ``mt data sim`` run that derived the simulated
features (source ``sim``). Simulating a symbol again replaces the values its earlier candles produced and
no others; ``mt data delete`` of a simulated series says which values it leaves without candles. It is
NULL for collected values (they describe the world, not stored candles) and for simulated values stored
before the origin was recorded (their producer is unknown, and the commands say so).

``feature_sources`` keeps each source's last known health and its small private state (items already
seen, open sentiment buckets), so ``mt data sources`` works without the daemon and a restarted daemon
neither double counts nor forgets.

``forecast_reads`` records, for each forecast a stored model added to a forecast series after the training
that made the series (the daemon's forecast of each closed bar, ``mt ml predict``), the candles it read
beyond those the training recorded in its model: the bars opened after ``after`` up to its own bar ``ts``,
how many, and a digest of their open times and closes (``collectors/forecast_candles.py`` checks them).
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
    origin_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))


class FeatureOrigin(SQLModel, table=True):
    """What a run derived its feature values from: ``derived_from`` is canonical JSON,
    ``{"seed": 7, "series": ["sim:BTC/USDT:1h", ...]}`` (``collectors/origins.py`` reads and writes it)."""

    __tablename__ = "feature_origins"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    derived_from: str = Field(sa_column=Column(Text, nullable=False, unique=True))


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


class ForecastRead(SQLModel, table=True):
    """The candles one added forecast read (see the module docstring); keyed like its feature value."""

    __tablename__ = "forecast_reads"

    source: str = Field(sa_column=Column(String(32), primary_key=True, nullable=False))
    name: str = Field(sa_column=Column(String(128), primary_key=True, nullable=False))
    symbol: str = Field(default="", sa_column=Column(String(32), primary_key=True, nullable=False))
    ts: int = Field(sa_column=Column(BigInteger, primary_key=True, nullable=False))
    after: int = Field(sa_column=Column(BigInteger, nullable=False))
    bars: int = Field(sa_column=Column(Integer, nullable=False))
    digest: str = Field(sa_column=Column(String(32), nullable=False))
