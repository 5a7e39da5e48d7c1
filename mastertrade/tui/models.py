"""Response shapes the dashboard needs that the daemon's API does not define (yet).

The daemon serves most of what the dashboard shows through the models in
``mastertrade.engine.api.schemas`` and ``schemas_trading``; these are the rest: the account's equity
history, the strategy pipeline and a strategy's detail. ``DaemonBackend`` reads them from the endpoints
named in each docstring when the daemon serves them (it checks ``/openapi.json``), and says plainly that
they are missing otherwise. Unknown fields are ignored so a richer answer still parses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

StrategyAction = Literal["activate", "pause", "retire"]

# The promotion pipeline, in order (the generator's states).
STAGES = ("generated", "backtested", "passed", "failed", "paper", "active", "paused", "retired")


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class EquityPoint(Model):
    """One mark of an equity curve: ``ts`` in epoch milliseconds (market time), ``equity`` in quote."""

    ts: int
    equity: float


class StrategyInfo(Model):
    """One row of ``GET /v1/strategies``: a stored strategy, its stage and headline metrics.

    Metrics are out-of-sample (walk-forward) figures of its backtest; ``paper_*`` come from its paper
    book once it trades there. Percentages are percent (12.5 = 12.5%).
    """

    id: str
    name: str
    stage: str
    symbol: str | None = None
    timeframe: str | None = None
    sharpe: float | None = None
    deflated_sharpe: float | None = None
    return_pct: float | None = None
    max_drawdown_pct: float | None = None
    trades: int | None = None
    paper_return_pct: float | None = None
    paper_trades: int | None = None
    updated_at: datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_store(cls, data: Any) -> Any:
        """Also read the strategy store's own JSON (``StoredStrategy.as_dict``): ``state`` for the stage,
        the headline metrics inside ``out_of_sample``, ``paper`` figures inside ``paper`` if present."""
        if not isinstance(data, dict):
            return data
        found = dict(data)
        if "stage" not in found and "state" in found:
            found["stage"] = found["state"]
        oos = found.get("out_of_sample")
        if isinstance(oos, dict):
            for key in ("sharpe", "return_pct", "max_drawdown_pct", "trades"):
                if found.get(key) is None and isinstance(oos.get(key), int | float):
                    found[key] = oos[key]
        paper = found.get("paper")
        if isinstance(paper, dict):
            found.setdefault("paper_return_pct", paper.get("return_pct"))
            found.setdefault("paper_trades", paper.get("trades"))
        return found


class StageChange(Model):
    """One move of a strategy between stages (also read from the store's ``from``/``to`` keys)."""

    at: datetime
    stage_from: str | None = Field(default=None, validation_alias=AliasChoices("stage_from", "from"))
    stage_to: str = Field(validation_alias=AliasChoices("stage_to", "to"))
    reason: str = ""


class StrategyDetail(StrategyInfo):
    """``GET /v1/strategies/{id}``: the row plus its genome (JSON and in words), its backtest and paper
    equity curves and its stage history."""

    genome: dict[str, Any] | None = None
    description: str | None = Field(default=None, description="the genome in words (signals.describe)")
    metrics: dict[str, Any] = Field(default_factory=dict)
    backtest_equity: list[EquityPoint] = Field(default_factory=list)
    paper_equity: list[EquityPoint] = Field(default_factory=list)
    history: list[StageChange] = Field(default_factory=list)
