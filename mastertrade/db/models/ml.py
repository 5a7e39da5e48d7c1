"""Forecast trainings: ``forecast_trials``, one row for every training of a series' forecast model.

A row keeps what the training was (the model, the horizon and every setting that changes its forecasts,
``settings``, hashed into ``settings_key``), the hold-out its verdict was scored on (the first and last
bar, epoch ms, how many bars the window spans and a digest of their open times and closes, as
``collectors/forecast_candles.py`` stamps candles) and that verdict against the naive baselines
(``evaluation``: the scores of ``engine/ml/evaluation.py``). ``forecasts`` says what was scored: the
forecasts the training made (``walk-forward``), or the stored series it was fitted beside (``stored``,
the nightly refit, which makes no forecast of its own). ``engine/ml/trials.py`` writes and reads them.

The rows belong to no model: deleting a model or replacing a series keeps them, since a training whose
verdict the trader saw was a look at the hold-out whatever became of it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from mastertrade.db.types import UTCDateTime, utcnow


class ForecastTrial(SQLModel, table=True):
    """One training of a forecast model and its hold-out verdict (see the module docstring)."""

    __tablename__ = "forecast_trials"
    __table_args__ = (Index("ix_forecast_trials_series", "exchange", "symbol", "timeframe"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    exchange: str = Field(sa_column=Column(String(64), nullable=False))
    symbol: str = Field(sa_column=Column(String(40), nullable=False))
    timeframe: str = Field(sa_column=Column(String(8), nullable=False))
    model: str = Field(sa_column=Column(String(32), nullable=False))
    horizon: int = Field(sa_column=Column(Integer, nullable=False))
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    settings_key: str = Field(sa_column=Column(String(32), nullable=False))
    forecasts: str = Field(sa_column=Column(String(16), nullable=False))
    holdout_first: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    holdout_last: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    holdout_bars: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    holdout_digest: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    evaluation: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    verdict: str = Field(sa_column=Column(Text, nullable=False))
    version: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    by: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
