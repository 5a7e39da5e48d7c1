"""Bodies of the strategy routes (``/v1/strategies``), shared with ``mastertrade.client``. Imports only
pydantic.

A stored strategy's metrics keep the names of the backtest's ``--json`` keys (``return_pct sharpe
max_drawdown_pct trades ...``); percentages are percent (12.5 = 12.5%). Times of the store are ISO-8601
UTC; curves are ``{ts, equity}`` with ``ts`` in market time (epoch ms).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mastertrade.engine.api.schemas import Timeframe
from mastertrade.engine.api.schemas_trading import REASON, REASON_MAX, EquityPointInfo

StrategyState = Literal["generated", "backtested", "passed", "failed", "paper", "active", "paused", "retired"]
"""A strategy's stage in the pipeline (``engine/generator/states.py``)."""


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class PaperRecord(Model):
    """What a strategy did in its own paper book (``strategy:<id>``), in market time; the figures the
    nightly promotion rules judge it by."""

    book: str
    start: datetime
    end: datetime
    days: float
    trades: int
    return_pct: float
    max_drawdown_pct: float


class StrategySummary(Model):
    """One stored strategy: its stage in the pipeline and its validation's headline figures.

    ``sharpe``, ``return_pct``, ``max_drawdown_pct`` and ``trades`` are the hold-out figures (bars the
    search never saw, scored once after selection), also found with the rest in ``out_of_sample``;
    ``paper`` is its paper record once it has one.
    """

    id: str
    name: str
    state: StrategyState
    symbol: str
    timeframe: Timeframe
    exchange: str | None = None
    sharpe: float | None = None
    return_pct: float | None = None
    max_drawdown_pct: float | None = None
    trades: int | None = None
    out_of_sample: dict[str, Any] = Field(default_factory=dict)
    deflated_sharpe: float | None = None
    reference_agrees: bool | None = Field(
        default=None, description="whether backtesting.py reproduced its trades (None: not re-run)"
    )
    complexity: int = 0
    generation_run_id: int | None = None
    paper: PaperRecord | None = None
    state_since: datetime
    created_at: datetime
    updated_at: datetime
    moved_from: StrategyState | None = Field(
        default=None, description="after a move (activate, pause, retire, paper): the state it moved from"
    )


class TransitionInfo(Model):
    """One move of a strategy between states (its creation has no ``from``)."""

    at: datetime
    from_: StrategyState | None = Field(default=None, alias="from")
    to: StrategyState
    reason: str = ""


class BacktestInfo(Model):
    """The backtest behind ``backtest_equity``: the fast engine on the stored candles of the strategy's
    series, with ``[backtest]`` cash and fee. ``note`` says why there is no curve when there is none. On
    a replay it ends at the replay's ``market_time``; ``after_market_time_bars`` counts the stored bars
    it has yet to play, left out."""

    start: str | None = None
    end: str | None = None
    bars: int = 0
    cash: float
    fee: float
    return_pct: float | None = None
    trades: int | None = None
    note: str | None = None
    market_time: str | None = None
    after_market_time_bars: int | None = None


class StrategyDetail(StrategySummary):
    """A stored strategy in full: its genome (JSON and in words), every part of its validation, its
    history, and its backtest and paper equity curves (each thinned to at most ~500 points)."""

    genome: dict[str, Any] | None = Field(
        default=None,
        description="the genome; null for a plugin or a trained model (code or weights, not rules)",
    )
    description: str = Field(description="the genome in words (signals.describe, several lines)")
    metrics: dict[str, Any] = Field(
        default_factory=dict,
        description="out-of-sample figures beyond the headline ones (profit factor, win rate, Sortino...)",
    )
    full_series: dict[str, Any] = Field(
        default_factory=dict, description="the metrics of the backtest on the whole generation series"
    )
    in_sample: dict[str, Any] = Field(default_factory=dict)
    holdout_buy_and_hold: dict[str, Any] | None = Field(
        default=None,
        description="buy-and-hold over the same hold-out bars (sharpe, return_pct, max_drawdown_pct): the"
        " naive baseline; null for a strategy stored before it was recorded",
    )
    folds: list[Any] = Field(default_factory=list)
    reference: dict[str, Any] | None = None
    history: list[TransitionInfo] = Field(default_factory=list)
    backtest: BacktestInfo
    backtest_equity: list[EquityPointInfo] = Field(default_factory=list)
    paper_equity: list[EquityPointInfo] = Field(default_factory=list)


class TransitionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(
        default=None, max_length=REASON_MAX, pattern=REASON, description="recorded in the strategy's history"
    )
    expect: str | None = Field(
        default=None,
        description="the state the caller saw: the move only happens from it (else 400 illegal_transition)",
    )
