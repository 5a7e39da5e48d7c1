"""Stored strategies, their life-cycle transitions, and the generation runs that produced them.

- **strategies**: one row per distinct strategy logic on one market. The id *is* the genome's
  fingerprint (16 hex digits of the hash of its canonical form, symbol and timeframe included), so the
  same logic generated twice, on any night, maps to the same row and is stored once; ``(symbol,
  timeframe, fingerprint)`` is unique as well. The row keeps the genome JSON, the state in the promotion
  pipeline (``engine/generator/states.py``), the metrics of the full-series backtest (what ``mt
  backtest`` reproduces), the in-sample and out-of-sample walk-forward metrics, the deflated Sharpe
  ratio, and whether the reference engine agreed with the fast one. Since the selection migration
  (``s12a``), ``out_of_sample`` holds the **hold-out** metrics (bars the search never saw), ``search``
  the walk-forward metrics on the search window the search optimised, and ``selection`` the hold-out
  window, the trial count of the deflated Sharpe ratio and the run's PBO.
- **strategy_transitions**: every state change with its reason and time, the creation included
  (``from_state`` null). Nothing is updated in place: the history is the audit trail.
- **generation_runs**: one row per ``mt generate`` or nightly run: parameters, seed, counts, timings,
  outcome ("running" while it runs; a nightly run a killed daemon left "running" is marked
  "interrupted", with when, at the next daemon start), and its owner: the process running it (pid, host
  and that process's start, ``mastertrade.pids.process_started``), so that a run whose process died (a
  killed ``mt generate``) is told from a live one and marked "interrupted" when runs are listed or a new
  one starts (``s37_run_owner``; a run stored before has no owner and is never judged).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlmodel import Field, SQLModel

from mastertrade.db.types import UTCDateTime, utcnow


class GenerationRun(SQLModel, table=True):
    __tablename__ = "generation_runs"

    id: int | None = Field(default=None, primary_key=True)
    trigger: str = Field(max_length=16)
    exchange: str = Field(max_length=64)
    symbol: str = Field(max_length=40)
    timeframe: str = Field(max_length=8)
    seed: int = Field(sa_column=Column(BigInteger, nullable=False))
    parameters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    timings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    outcome: str = Field(max_length=16)
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    owner_pid: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    owner_host: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    owner_started: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))


class StrategyRecord(SQLModel, table=True):
    __tablename__ = "strategies"
    __table_args__ = (
        UniqueConstraint("symbol", "timeframe", "fingerprint", name="uq_strategies_market_fingerprint"),
        Index("ix_strategies_state", "state"),
        Index("ix_strategies_market", "symbol", "timeframe"),
    )

    id: str = Field(sa_column=Column(String(16), primary_key=True, nullable=False))
    name: str = Field(max_length=80)
    fingerprint: str = Field(max_length=16)
    symbol: str = Field(max_length=40)
    timeframe: str = Field(max_length=8)
    exchange: str | None = Field(default=None, max_length=64)
    state: str = Field(max_length=16)
    genome: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    in_sample: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    out_of_sample: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    folds: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    search: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """What the search optimised: walk-forward metrics over the search window (never the hold-out)."""
    selection: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """How it was selected and judged: the hold-out window, the trials the deflated Sharpe counted, PBO."""
    deflated_sharpe: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    reference_agrees: bool | None = None
    reference: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    complexity: int = 0
    generation_run_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("generation_runs.id"), nullable=True)
    )
    seed: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    state_since: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SelectionTrials(SQLModel, table=True):
    """One batch of trials scored on one series (a generation run, an optimisation, a validation with
    declared trials): the persisted trial registry the deflated Sharpe ratio counts across nights.

    ``trials`` candidates were scored on bars ``[start_ts, end_ts]``; ``sharpe_count``, ``sharpe_mean``
    and ``sharpe_m2`` (sum of squared deviations) summarise their per-day Sharpe ratios, so batches pool
    exactly into one variance (Chan's parallel algorithm) without storing every trial."""

    __tablename__ = "selection_trials"
    __table_args__ = (Index("ix_selection_trials_series", "exchange", "symbol", "timeframe"),)

    id: int | None = Field(default=None, primary_key=True)
    exchange: str = Field(max_length=64)
    symbol: str = Field(max_length=40)
    timeframe: str = Field(max_length=8)
    start_ts: int = Field(sa_column=Column(BigInteger, nullable=False))
    end_ts: int = Field(sa_column=Column(BigInteger, nullable=False))
    source: str = Field(max_length=32)
    trials: int = 0
    sharpe_count: int = 0
    sharpe_mean: float = 0.0
    sharpe_m2: float = 0.0
    generation_run_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SelectionTrialKey(SQLModel, table=True):
    """One candidate a batch of ``selection_trials`` counted, by the hash of its configuration (a genome's
    fingerprint or a plugin's parameter values, whichever command scored it): a candidate is counted once
    among the batches of overlapping bars of the series, and a run on exactly the same bars leaves it out
    of its batch (``engine/generator/trials.py``). Batches stored before these keys have none: their
    trials all count. Indexed by key too: a run asks which of its few thousand keys were counted before;
    ``seen_before`` (see below) keeps the count of distinct keys from reading every key of every night."""

    __tablename__ = "selection_trial_keys"
    __table_args__ = (
        Index("ix_selection_trial_keys_batch", "batch_id"),
        Index("ix_selection_trial_keys_key", "key"),
        Index("ix_selection_trial_keys_seen", "batch_id", "seen_before"),
    )

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(
        sa_column=Column(Integer, ForeignKey("selection_trials.id", ondelete="CASCADE"), nullable=False)
    )
    key: str = Field(max_length=32)
    seen_before: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    """Whether an earlier batch of the series kept the same key when this row was stored: of any two rows
    of one key the later is marked, so counting each key once reads only the marked rows' keys."""


class StrategyTransition(SQLModel, table=True):
    __tablename__ = "strategy_transitions"
    __table_args__ = (Index("ix_strategy_transitions_strategy", "strategy_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    strategy_id: str = Field(
        sa_column=Column(String(16), ForeignKey("strategies.id", ondelete="CASCADE"), nullable=False)
    )
    from_state: str | None = Field(default=None, max_length=16)
    to_state: str = Field(max_length=16)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
