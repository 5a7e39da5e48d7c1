"""Where a replayed market stands: the last stored bar the replay venue served, per replayed series.

Market time of a workspace never goes back: a daemon restarted on ``[market] venue = "replay"`` resumes
after this bar instead of from the first stored candle (``engine/market/replay.py``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from mastertrade.db.types import UTCDateTime, utcnow


class ReplayPosition(SQLModel, table=True):
    __tablename__ = "replay_positions"

    exchange: str = Field(max_length=64, primary_key=True)
    """The exchange whose stored candles are played back (``[market] replay_exchange``)."""
    timeframe: str = Field(max_length=8, primary_key=True)
    served_ts: int = Field(sa_column=Column(BigInteger, nullable=False))
    """Open time (epoch ms) of the last bar the replay began to serve; a restart resumes after it."""
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
