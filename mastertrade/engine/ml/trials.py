"""The registry of forecast trainings: how many saw a hold-out, so that a verdict chosen on it says so.

One training's hold-out verdict is a fair test (:mod:`.evaluation`): its walk-forward forecasts were made
by models trained before their bars, with settings fixed before the hold-out was scored. A trader who then
trains the series again with other settings (another model, horizon, feature, window, epochs, seed ...)
and keeps the training with the best verdict has chosen on the hold-out: the verdict kept is the best of
several, not out-of-sample. So every training records itself (table ``forecast_trials``): its settings,
the hold-out window its verdict was scored on, and that verdict against the naive baselines.
:meth:`ForecastTrials.seen` counts the trainings that saw a hold-out, and ``mt ml train`` and ``mt ml
evaluate`` say it beside the verdict (:func:`selection`) when they are more than one.

What counts, as the research side's trial registry counts (``engine/generator/trials.py``):

- **trainings of the series** (exchange, symbol, timeframe) whose scored hold-out bars overlap the
  verdict's, whatever their model, horizon or hold-out share: choosing between a LightGBM and an LSTM, or
  between horizons, on the same bars is choosing on them;
- **distinct settings, once each**: the same settings trained again (the same seed, on bars shifted by a
  day) make the same forecasts of the bars they share, no new draw (:func:`settings_key`); only what
  changes the forecasts is part of them (not LightGBM's thread count, nor its epochs);
- **on the same candles**: a hold-out stamps its bars as the forecast provenance stamps candles
  (``collectors.forecast_candles``); a training scored on candles that changed since (re-simulated,
  imported over, deleted) looked at other prices and is not counted. One whose hold-out runs past the bars
  a replay has played (``market.as_of``) cannot be checked without reading them, and counts: a training
  may be counted once more, never once less.

The nightly refit (``trainer.refit``) fits the model of the newest bar beside the stored series and scores
those stored forecasts, made by earlier trainings: it records itself (``forecasts = "stored"``) but is no
new look at the hold-out with new settings, so it is not counted. Rows belong to no model: deleting a
model or replacing a series keeps them. Trainings before this registry existed were not recorded.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
from sqlalchemy import select

from mastertrade.db.models.ml import ForecastTrial
from mastertrade.db.types import utcnow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from mastertrade.db.database import Database
    from mastertrade.engine.market.store import SeriesKey
    from mastertrade.engine.ml.models import ModelConfig

WALK_FORWARD = "walk-forward"
"""A training scored on the forecasts its own walk-forward made: a look at the hold-out, counted."""
STORED = "stored"
"""A refit scored on the stored series' forecasts, made by earlier trainings: recorded, not counted."""


class Training(Protocol):
    """What a training was asked to do (``trainer.TrainRequest``, read here without importing it)."""

    @property
    def model(self) -> str: ...
    @property
    def horizon(self) -> int: ...
    @property
    def train_bars(self) -> int: ...
    @property
    def retrain_every(self) -> int: ...
    @property
    def max_train(self) -> int | None: ...
    @property
    def seed(self) -> int: ...
    @property
    def extra(self) -> tuple[str, ...]: ...
    @property
    def config(self) -> ModelConfig: ...


def settings_of(request: Training) -> dict[str, Any]:
    """Everything that makes a training's forecasts what they are, as plain JSON values: the model's
    settings it reads (``Forecaster.reads``; LightGBM's forecasts do not depend on --epochs)."""
    from mastertrade.engine.ml.models import model_class

    reads = model_class(request.model).reads | {"window"}
    config = {name: value for name, value in request.config.as_dict().items() if name in reads}
    return {
        "model": request.model,
        "horizon": request.horizon,
        "train_bars": request.train_bars,
        "retrain_every": request.retrain_every,
        "max_train": request.max_train,
        "seed": request.seed,
        "features": sorted(request.extra),
        "config": config,
    }


def settings_key(settings: dict[str, Any]) -> str:
    """32 hex digits of the hash of ``settings``' canonical JSON: the same settings, the same key."""
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Holdout:
    """The bars a verdict was scored on: every bar from its first scored bar to its last (open times,
    epoch ms), stamped like the candles a forecast was made from (``forecast_candles.candle_stamp``)."""

    first: int
    last: int
    bars: int
    digest: str

    def stamp(self) -> dict[str, Any]:
        return {"first": self.first, "last": self.last, "bars": self.bars, "digest": self.digest}


def scored_holdout(
    frame: pd.DataFrame, predictions: np.ndarray[Any, np.dtype[np.float64]], horizon: int, holdout: float
) -> Holdout | None:
    """The hold-out the verdict of ``predictions`` on ``frame`` is scored on (``evaluation.scored_mask``,
    the hold-out module's one definition of it); None when no bar is scored."""
    from mastertrade.engine.collectors.forecast_candles import candle_stamp
    from mastertrade.engine.ml.evaluation import scored_mask
    from mastertrade.engine.ml.windows import labels

    close = frame["close"].to_numpy(dtype=np.float64)
    found = np.flatnonzero(scored_mask(predictions, labels(close, horizon), close, horizon, holdout))
    if found.shape[0] == 0:
        return None
    stamp = candle_stamp(frame.iloc[int(found[0]) : int(found[-1]) + 1])
    return Holdout(int(stamp["first"]), int(stamp["last"]), int(stamp["bars"]), str(stamp["digest"]))


def selection(trainings: int) -> dict[str, Any]:
    """What a verdict's report says of the trainings that saw its hold-out (``trainings``, this one
    among them; 0 when none was recorded: made before the registry existed)."""
    note = None
    if trainings > 1:
        note = (
            f"hold-out seen by {trainings} trainings (different settings scored on these bars): keeping the"
            f" best of {trainings} chooses on the hold-out, so this verdict is not out-of-sample"
        )
    return {
        "holdout_trainings": trainings,
        # unknown (None) for forecasts whose training was not recorded
        "out_of_sample": None if trainings == 0 else trainings == 1,
        "holdout_note": note,
    }


def _table() -> Any:
    return ForecastTrial.__table__  # type: ignore[attr-defined]


class ForecastTrials:
    """The ``forecast_trials`` table of ``db`` (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self,
        key: SeriesKey,
        request: Training,
        holdout: Holdout | None,
        evaluation: dict[str, Any],
        *,
        forecasts: str,
        version: str | None,
        by: str,
        conn: AsyncConnection | None = None,
    ) -> None:
        """Record one training of ``request`` on ``key``: scored on ``holdout`` (None: no bar scored) with
        ``evaluation`` (``evaluation.evaluate``); ``conn``: the transaction storing what it made, so the
        row is there exactly when that is."""
        settings = settings_of(request)
        row = {
            "exchange": key.exchange,
            "symbol": key.symbol,
            "timeframe": key.timeframe,
            "model": request.model,
            "horizon": request.horizon,
            "settings": settings,
            "settings_key": settings_key(settings),
            "forecasts": forecasts,
            "holdout_first": None if holdout is None else holdout.first,
            "holdout_last": None if holdout is None else holdout.last,
            "holdout_bars": 0 if holdout is None else holdout.bars,
            "holdout_digest": None if holdout is None else holdout.digest,
            "evaluation": evaluation,
            "verdict": str(evaluation.get("verdict", "")),
            "version": version,
            "by": by,
            "created_at": utcnow(),
        }
        if conn is not None:
            await conn.execute(_table().insert().values(**row))
            return
        async with self.db.engine.begin() as own:
            await own.execute(_table().insert().values(**row))

    async def seen(self, key: SeriesKey, holdout: Holdout | None, frame: pd.DataFrame, *, cut: bool) -> int:
        """How many trainings with distinct settings scored hold-out bars of ``key`` overlapping
        ``holdout`` on the candles ``frame`` holds now (the series as read, up to its newest bar; ``cut``:
        only up to a replay's market time, the bars after it unread). See the module docstring."""
        if holdout is None:
            return 0
        from mastertrade.engine.collectors.forecast_candles import unchanged

        table = _table()
        query = select(
            table.c.settings_key,
            table.c.holdout_first,
            table.c.holdout_last,
            table.c.holdout_bars,
            table.c.holdout_digest,
        ).where(
            table.c.exchange == key.exchange,
            table.c.symbol == key.symbol,
            table.c.timeframe == key.timeframe,
            table.c.forecasts == WALK_FORWARD,
            table.c.holdout_first <= holdout.last,
            table.c.holdout_last >= holdout.first,
        )
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        newest = int(pd.DatetimeIndex(frame.index).as_unit("ms").asi8[-1]) if len(frame) else None
        keys = set()
        for found, first, last, bars, digest in rows:
            stamp = {"first": first, "last": last, "bars": bars, "digest": digest}
            if (cut and newest is not None and int(last) > newest) or unchanged(stamp, frame):
                keys.add(found)
        return len(keys)

    async def list(
        self,
        *,
        symbol: str | None = None,
        timeframe: str | None = None,
        exchange: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """The recorded trainings, newest first, as JSON values (:func:`as_dict`); only those of the
        ``symbol``, ``timeframe`` and ``exchange`` given."""
        table = _table()
        query = select(table).order_by(table.c.id.desc())
        for column, wanted in (("symbol", symbol), ("timeframe", timeframe), ("exchange", exchange)):
            if wanted is not None:
                query = query.where(table.c[column] == wanted)
        if limit is not None:
            query = query.limit(limit)
        async with self.db.engine.connect() as conn:
            return [as_dict(dict(row._mapping)) for row in (await conn.execute(query)).all()]


def as_dict(row: dict[str, Any]) -> dict[str, Any]:
    """One recorded training as `mt ml trials --json` shows it (times ISO-8601, UTC)."""
    from mastertrade.utc import iso, iso_ms

    first, last = row["holdout_first"], row["holdout_last"]
    return {
        "id": row["id"],
        "trained_at": iso(row["created_at"], "seconds"),
        "by": row["by"],
        "series": f"{row['exchange']}:{row['symbol']}:{row['timeframe']}",
        "model": row["model"],
        "horizon": row["horizon"],
        "settings": row["settings"],
        "settings_key": row["settings_key"],
        "forecasts": row["forecasts"],
        "holdout": None
        if first is None
        else {"start": iso_ms(int(first)), "end": iso_ms(int(last)), "bars": row["holdout_bars"]},
        "evaluation": row["evaluation"],
        "verdict": row["verdict"],
        "version": row["version"],
    }
