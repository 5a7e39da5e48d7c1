"""One door for forecasts: train (walk-forward, publish the series, save the model), evaluate on the
hold-out, load the newest model and predict. The CLI, the daemon's job and the tests all call these.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mastertrade.artifacts import (
    MANIFEST,
    Artifact,
    ArtifactStore,
    IncompatibleArtifact,
    Staged,
    library_versions,
    safe_key,
)
from mastertrade.engine.collectors.forecast_candles import CANDLES, artifact_key, candle_stamp
from mastertrade.engine.ml.models import ModelConfig, model_class
from mastertrade.engine.ml.stoppable import Check, run_stoppable
from mastertrade.engine.ml.walkforward import (
    ForecastRun,
    ForecastSpec,
    Progress,
    TrainedModel,
    predict_rows,
    prepare,
    walk_forward,
)
from mastertrade.engine.ml.windows import Scaler
from mastertrade.engine.signals.forecast_term import FORECAST, series_name, source
from mastertrade.errors import NotFound, UserInputError

if TYPE_CHECKING:
    from mastertrade.db.database import Database
    from mastertrade.engine.market.store import SeriesKey
    from mastertrade.engine.ml.publish import Strategies

log = logging.getLogger(__name__)

KIND = "forecast"
LIVE_BARS = 400
"""Bars of history read to predict the newest bar (windows plus the indicators' warm-up)."""


@dataclass(frozen=True)
class TrainRequest:
    model: str
    symbol: str
    timeframe: str
    exchange: str | None = None
    horizon: int = 1
    train_bars: int = 500
    retrain_every: int = 168
    max_train: int | None = None
    seed: int = 0
    holdout: float = 0.25
    extra: tuple[str, ...] = ()
    """Stored alternative-data features to add to the inputs (e.g. "sentiment", "fear_greed")."""
    config: ModelConfig = field(default_factory=ModelConfig)
    section: str | None = None
    """The config section the parameters came from (the daemon's ``"ml"``): errors then name its keys
    ("[ml] train_bars = 500"), not options of `mt ml train` the trader never gave."""

    def given(self, name: str, value: object) -> str:
        """How the trader set parameter ``name``: "--train-bars 500", or "[ml] train_bars = 500"."""
        if self.section is None:
            return f"--{name.replace('_', '-')} {value}"
        return f"[{self.section}] {name} = {value}"

    def spec(self) -> ForecastSpec:
        return ForecastSpec(
            self.model,
            self.horizon,
            self.train_bars,
            self.retrain_every,
            self.max_train,
            self.seed,
            self.config,
        )

    def check(self) -> None:
        from mastertrade.engine.ml.evaluation import check_holdout

        model_class(self.model)
        if self.config.window < 4:
            raise UserInputError(f"{self.given('window', self.config.window)}: must be at least 4 bars")
        if self.config.epochs < 1:
            raise UserInputError(f"{self.given('epochs', self.config.epochs)}: must be at least 1")
        if not 1 <= self.horizon <= 48:
            raise UserInputError(f"{self.given('horizon', self.horizon)}: must be 1..48 bars")
        if self.train_bars < 20:
            raise UserInputError(f"{self.given('train_bars', self.train_bars)}: must be at least 20")
        if self.max_train is not None and self.max_train < 20:
            # as few as one sample left LightGBM's bagging nothing to grow a tree on: a traceback
            raise UserInputError(f"--max-train {self.max_train}: must be at least 20, like --train-bars")
        if self.retrain_every < 1:
            raise UserInputError(f"{self.given('retrain_every', self.retrain_every)}: must be at least 1 bar")
        check_holdout(self.holdout)
        repeated = sorted({name for name in self.extra if self.extra.count(name) > 1})
        if repeated:
            raise UserInputError(f"--feature {repeated[0]}: given more than once")


async def load_frame(
    db: Database,
    symbol: str,
    timeframe: str,
    exchange: str | None,
    start: int | None = None,
    *,
    until: int | None = None,
) -> tuple[SeriesKey, pd.DataFrame]:
    """The stored candles of a series from ``start`` on (of those closed by market time ``until``: a
    replay's store holds bars it has yet to play, ``market.as_of``)."""
    from mastertrade.engine.market.as_of import opened_before
    from mastertrade.engine.market.store import CandleStore
    from mastertrade.utc import iso_ms

    store = CandleStore(db)
    key = await store.resolve(symbol, timeframe, exchange)
    frame = await store.read(key, start, opened_before(until, timeframe) if until is not None else None)
    if frame.empty:
        closed = f" closed by the market time {iso_ms(until)}" if until is not None else ""
        raise NotFound(f"no candles of {key}{closed}")
    return key, frame


async def load_extra(
    db: Database, names: tuple[str, ...], key: SeriesKey, frame: pd.DataFrame
) -> dict[str, np.ndarray[Any, np.dtype[np.float64]]]:
    """Stored alternative-data features aligned to ``frame`` without lookahead (default parameters)."""
    if not names:
        return {}
    from mastertrade.engine.collectors.provider import StoredFeatures
    from mastertrade.engine.signals.features import feature_spec
    from mastertrade.engine.signals.specs import ParamError, validate_params

    wanted = []
    for name in names:
        if name == FORECAST:
            raise UserInputError("--feature forecast: a forecast cannot be an input of a forecast")
        try:
            wanted.append((name, validate_params(feature_spec(name), {})))
        except ParamError as exc:
            raise UserInputError(f"--feature {name}: {exc.message}") from None
    provider = await StoredFeatures.load(
        db, wanted, timeframe=key.timeframe, simulated=key.simulated, exchange=key.exchange, market=key.symbol
    )
    out: dict[str, np.ndarray[Any, np.dtype[np.float64]]] = {}
    for name, params in wanted:
        value = provider(name, dict(params), frame)["value"]
        out[name] = np.full(len(frame), np.nan) if value is None else np.asarray(value, dtype=np.float64)
    return out


def save_model(
    store: ArtifactStore,
    trained: TrainedModel,
    request: TrainRequest,
    key: SeriesKey,
    frame: pd.DataFrame,
    names: list[str],
    metrics: dict[str, Any],
) -> Artifact:
    return stage_model(store, trained, request, key, frame, names, metrics).publish()


def stage_model(
    store: ArtifactStore,
    trained: TrainedModel,
    request: TrainRequest,
    key: SeriesKey,
    frame: pd.DataFrame,
    names: list[str],
    metrics: dict[str, Any],
    series: dict[str, Any] | None = None,
) -> Staged:
    """The model written and hashed, not yet visible (see :meth:`ArtifactStore.stage`); ``series``: the
    stamp of the forecast series it is stored with (:func:`.pending.stamp`)."""
    opens = pd.DatetimeIndex(frame.index).as_unit("ms").asi8

    def write(folder: Path) -> None:
        trained.model.save(folder)
        np.save(folder / "scaler_mean.npy", trained.scaler.mean, allow_pickle=False)
        np.save(folder / "scaler_scale.npy", trained.scaler.scale, allow_pickle=False)

    meta = {
        "config": request.config.as_dict(),
        "seed": request.seed,
        "train_bars": request.train_bars,
        "retrain_every": request.retrain_every,
        "max_train": request.max_train,
        "extra": list(request.extra),
        "trained_at_bar": int(opens[trained.at]),
        **({} if series is None else {"series": series}),
        CANDLES: candle_stamp(frame),  # what its stored forecasts were made from (``forecast_candles``)
    }
    return store.stage(
        KIND,
        request.model,
        artifact_key(key, request.horizon),
        write,
        libraries=library_versions(("mastertrade", "numpy", *trained.model.libraries)),
        train_start=int(opens[trained.first_sample]),
        train_end=int(opens[trained.last_sample]),
        features=names,
        metrics=metrics,
        meta=meta,
    )


def judge(
    request: TrainRequest, frame: pd.DataFrame, predictions: np.ndarray[Any, np.dtype[np.float64]]
) -> dict[str, Any]:
    """The walk-forward ``predictions`` scored on the hold-out against the naive baselines."""
    from mastertrade.engine.ml.evaluation import evaluate
    from mastertrade.engine.ml.windows import labels

    close = frame["close"].to_numpy(dtype=np.float64)
    opens = pd.DatetimeIndex(frame.index).as_unit("ms").asi8
    y = labels(close, request.horizon)
    return evaluate(predictions, y, close, request.horizon, request.holdout, opens)


def judge_and_save(
    store: ArtifactStore,
    trained: TrainedModel,
    request: TrainRequest,
    key: SeriesKey,
    frame: pd.DataFrame,
    names: list[str],
    predictions: np.ndarray[Any, np.dtype[np.float64]],
) -> tuple[dict[str, Any], Artifact]:
    """What follows every training (the walk-forward's and the nightly refit's): the walk-forward
    ``predictions`` scored on the hold-out against the naive baselines, and the model saved with them."""
    metrics = judge(request, frame, predictions)
    return metrics, save_model(store, trained, request, key, frame, names, metrics)


@dataclass
class LoadedModel:
    """A stored model ready to predict (kept by the daemon between bars)."""

    artifact: Artifact
    trained: TrainedModel
    extra: tuple[str, ...]
    horizon: int

    @classmethod
    def open(cls, artifact: Artifact, store: ArtifactStore) -> LoadedModel:
        cls_ = model_class(artifact.name)
        artifact = store.open(artifact.path, require=cls_.libraries)
        config = ModelConfig(**artifact.meta["config"])
        model = cls_.load(artifact.path, len(artifact.features), config, int(artifact.meta["seed"]))
        scaler = Scaler(np.load(artifact.file("scaler_mean.npy")), np.load(artifact.file("scaler_scale.npy")))
        trained = TrainedModel(model, scaler, -1, -1, -1)
        return cls(artifact, trained, tuple(artifact.meta.get("extra", ())), int(artifact.key["horizon"]))

    def predict_last(
        self, frame: pd.DataFrame, extra: dict[str, np.ndarray[Any, np.dtype[np.float64]]]
    ) -> float | None:
        """The forecast made at the close of the frame's last bar (None when its window is incomplete)."""
        values, valid, names = prepare(frame, extra)
        if names != self.artifact.features:
            raise UserInputError(
                f"model {self.artifact.version} reads features {self.artifact.features}, got {names}"
            )
        n = values.shape[0]
        ends, predicted = predict_rows(self.trained, values, valid, n - 1, n - 1)
        return float(predicted[0]) if ends.shape[0] else None


def _locked(
    store: ArtifactStore, request: TrainRequest, key: SeriesKey, by: str
) -> AbstractContextManager[None]:
    """The series' training lock (``training_lock``): a second training of it is refused."""
    from mastertrade.engine.ml.training_lock import training_lock

    wanted = artifact_key(key, request.horizon)
    return training_lock(store, KIND, request.model, wanted, series=str(key), by=by)


async def train(
    db: Database,
    request: TrainRequest,
    *,
    strategies: Strategies,
    store: ArtifactStore | None = None,
    progress: Progress | None = None,
    by: str = "a training",
    until: int | None = None,
) -> dict[str, Any]:
    """Walk-forward over the stored candles, publish the forecast series (replacing the stored one),
    save the final model. Refused, nothing stored: while another process trains the same model on the
    same series (``TrainingRunning``; ``by`` names this one to such a process, "mt ml train"), and while
    a strategy in paper, active or paused state among ``strategies`` reads the series (``SeriesInUse``,
    see :mod:`mastertrade.engine.ml.publish`): checked before any work, and again as the series is written.
    ``until``: a replay's market time (``market.as_of``): only the bars closed by then are read, and the
    summary says it (``market_time``, ``after_market_time_bars``).
    """
    from mastertrade.engine.market.as_of import left_out
    from mastertrade.engine.market.store import CandleStore
    from mastertrade.engine.ml.pending import settle
    from mastertrade.engine.ml.publish import check_no_readers

    request.check()
    store = store or ArtifactStore.default()
    await settle(db, store)
    resolved = await CandleStore(db).resolve(request.symbol, request.timeframe, request.exchange)
    await check_no_readers(strategies, request.model, resolved, request.horizon)
    key, frame = await load_frame(db, request.symbol, request.timeframe, request.exchange, until=until)
    cut = {} if until is None else await left_out(db, key, until)
    extra = await _training_extra(db, request, key, frame)  # bad input is refused before anything is written
    with _locked(store, request, key, by):
        summary = await _train(
            db,
            request,
            store,
            key,
            frame,
            extra,
            progress,
            strategies,
            refuse_empty=True,
            by=by,
            cut=until is not None,
        )
    return {**summary, **cut}


async def _training_extra(
    db: Database, request: TrainRequest, key: SeriesKey, frame: pd.DataFrame
) -> dict[str, np.ndarray[Any, np.dtype[np.float64]]]:
    extra = await load_extra(db, request.extra, key, frame)
    for name, column in extra.items():
        # A column with no value at all would be read as the training mean on every bar: an input the
        # trader asked for that the model never sees.
        if np.isnan(column).all():
            raise UserInputError(
                f"--feature {name}: no stored values for the bars of {key}"
                " (`mt data sources` shows which collectors run; `mt data sim` writes simulated ones)"
            )
    return extra


async def _train(
    db: Database,
    request: TrainRequest,
    store: ArtifactStore,
    key: SeriesKey,
    frame: pd.DataFrame,
    extra: dict[str, np.ndarray[Any, np.dtype[np.float64]]],
    progress: Progress | None,
    strategies: Strategies,
    *,
    refuse_empty: bool,
    by: str,
    cut: bool,
) -> dict[str, Any]:
    """The walk-forward, then the series, the model and the training's record (``trials``, ``by``
    naming who trained) stored together; ``refuse_empty``: see
    :func:`mastertrade.engine.ml.publish.replacing`; ``cut``: ``frame`` stops at a replay's market time."""
    from mastertrade.engine.collectors.store import FeatureStore
    from mastertrade.engine.market.missing import missing_bars, missing_note
    from mastertrade.engine.market.timeframes import timeframe_ms, to_iso
    from mastertrade.engine.ml.pending import stamp
    from mastertrade.engine.ml.publish import replacing
    from mastertrade.engine.ml.series import bar_opens, forecast_points
    from mastertrade.engine.ml.trials import WALK_FORWARD, ForecastTrials, scored_holdout, selection

    spec = request.spec()

    def work(check: Check) -> ForecastRun:
        def report(done: int, total: int, message: str) -> None:
            check()  # between retrainings: a cancelled command stops here, having stored nothing
            if progress is not None:
                progress(done, total, message)

        # ... and inside each fit, after every mini-batch or boosting round
        return walk_forward(frame, spec, extra=extra, progress=report, final=True, check=check)

    run = await run_stoppable(work)
    if run.last is None:
        raise UserInputError(
            f"{key}: {len(frame)} bars are too few to train with"
            f" {request.given('train_bars', request.train_bars)}"
            f" and {request.given('window', request.config.window)}"
        )
    metrics = judge(request, frame, run.predictions)
    holdout = scored_holdout(frame, run.predictions, request.horizon, request.holdout)
    trials = ForecastTrials(db)
    name = series_name(request.model, request.horizon, key.timeframe, key.exchange)
    points = forecast_points(name, key.symbol, bar_opens(frame), run.predictions, timeframe_ms(key.timeframe))
    replaced = None
    if not points:
        artifact = save_model(store, run.last, request, key, frame, run.feature_names, metrics)
        await trials.record(
            key, request, holdout, metrics, forecasts=WALK_FORWARD, version=artifact.version, by=by
        )
    else:
        # The walk-forward recomputes the whole series, so it replaces what an earlier training stored,
        # unless a strategy that trades reads it (checked again here, in the transaction that writes:
        # one may have gone to paper while the model trained). The model is written first but made
        # visible only once the series is committed: a refusal, a failed write or commit, or a Ctrl-C
        # at the commit leaves neither, and an identical model stored before stays as it was. A kill
        # after the commit leaves the model to the next reader, who publishes it (``pending``).
        stamped = stamp(source(key.simulated), points)
        staged = stage_model(store, run.last, request, key, frame, run.feature_names, metrics, stamped)
        try:
            staged.hold_for_publish()
            async with replacing(
                db, strategies, request.model, key, request.horizon, refuse_empty=refuse_empty
            ) as replacement:
                await FeatureStore(db).replace(source(key.simulated), points, conn=replacement.conn)
                # recorded with the series: a training whose forecasts and verdict were stored is counted
                await trials.record(
                    key,
                    request,
                    holdout,
                    metrics,
                    forecasts=WALK_FORWARD,
                    version=str(staged.manifest()["version"]),
                    by=by,
                    conn=replacement.conn,
                )
        except BaseException:
            staged.discard()
            raise
        artifact = staged.publish()  # no await since the commit: a cancellation cannot fall in between
        replaced = replacement.replaced
    return {
        "model": request.model,
        "series": str(key),
        "horizon": request.horizon,
        "feature": {"feature": FORECAST, "model": request.model, "horizon": request.horizon},
        "forecasts": len(points),
        "retrains": len(run.retrains),
        "first_forecast": to_iso(points[0].ts) if points else None,
        "last_forecast": to_iso(points[-1].ts) if points else None,
        # The stored series this training replaced (None: there was none, nothing was replaced).
        "replaced": replaced.as_dict() if replaced is not None and replaced.values else None,
        "artifact": artifact.as_dict(),
        # the stored model keeps the verdict as scored; the report adds how many trainings saw its hold-out
        "evaluation": {**metrics, **selection(await trials.seen(key, holdout, frame, cut=cut))},
        # Bars missing inside the series: features, labels and windows ran across them as if adjacent.
        "missing_bars": missing_bars(frame, key.timeframe)[0],
        "missing_note": missing_note(frame, key.timeframe, key.symbol),
    }


def threshold_genome(model: str, horizon: int, threshold: float, key: SeriesKey) -> dict[str, Any]:
    term = {"feature": FORECAST, "model": model, "horizon": horizon}
    return {
        "name": f"forecast-{model}-h{horizon}",
        "symbol": key.symbol,
        "timeframe": key.timeframe,
        "entry": {">": [term, threshold]},
        "exit": {"<": [term, -threshold]},
    }


async def stored_predictions(
    db: Database, model: str, key: SeriesKey, horizon: int, frame: pd.DataFrame
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The stored forecast of each bar of ``frame`` (NaN where none)."""
    from mastertrade.engine.collectors.store import FeatureStore

    name = series_name(model, horizon, key.timeframe, key.exchange)
    series = await FeatureStore(db).read(source(key.simulated), name, key.symbol)
    opens = pd.DatetimeIndex(frame.index).as_unit("ms").asi8
    predictions = np.full(len(frame), np.nan)
    if len(series) == 0 or len(opens) == 0:
        return predictions
    where = np.searchsorted(opens, series.ts)
    inside = (where < len(opens)) & (opens[np.clip(where, 0, len(opens) - 1)] == series.ts)
    predictions[where[inside]] = series.values[inside]
    return predictions


async def refit(
    db: Database,
    request: TrainRequest,
    *,
    strategies: Strategies,
    store: ArtifactStore | None = None,
    by: str = "the nightly retraining",
    until: int | None = None,
) -> dict[str, Any]:
    """Train the model of the newest bar on every label known now and save it (the nightly job). The
    stored forecast series is left as it is: past forecasts are never rewritten; a series with no
    forecast of the stored bars yet is made by a full walk-forward instead (refused, ``SeriesInUse``,
    should it still hold values that strategies in ``strategies`` trading on it read), and so is one whose
    forecasts were made from candles that changed since (``summary["candles_changed"]`` says why; refused,
    ``CandlesChanged``, while such strategies read it: :func:`_train_again`). Refused like
    :func:`train` while another process trains the series. ``until``: "now" is that market time (a
    replay's), and only the bars closed by then are read."""
    from mastertrade.engine.ml.pending import settle

    request.check()
    store = store or ArtifactStore.default()
    await settle(db, store)
    key, frame = await load_frame(db, request.symbol, request.timeframe, request.exchange, until=until)
    with _locked(store, request, key, by):
        return await _refit(db, request, store, key, frame, strategies, by=by, until=until)


async def _refit(
    db: Database,
    request: TrainRequest,
    store: ArtifactStore,
    key: SeriesKey,
    frame: pd.DataFrame,
    strategies: Strategies,
    *,
    by: str,
    until: int | None,
) -> dict[str, Any]:
    from mastertrade.engine.collectors.forecast_candles import stale
    from mastertrade.engine.ml.trials import STORED, ForecastTrials, scored_holdout, selection
    from mastertrade.engine.ml.walkforward import fit_at
    from mastertrade.engine.ml.windows import labels

    cut = until is not None
    predictions = await stored_predictions(db, request.model, key, request.horizon, frame)
    if np.isnan(predictions).all():
        extra = await _training_extra(db, request, key, frame)
        return await _train(
            db, request, store, key, frame, extra, None, strategies, refuse_empty=False, by=by, cut=cut
        )
    # on the candles it read (on a replay, those closed by its market time; the others are still to play)
    reason = await stale(db, request.model, key, request.horizon, store=store, frame=frame, until=until)
    if reason is not None:
        return await _train_again(db, request, store, key, frame, strategies, reason, by=by, cut=cut)
    extra = await load_extra(db, request.extra, key, frame)
    values, valid, names = prepare(frame, extra)
    y = labels(frame["close"].to_numpy(dtype=np.float64), request.horizon)
    trained = await run_stoppable(
        lambda check: fit_at(request.spec(), values, valid, y, len(frame) - 1, request.seed, check)
    )
    if trained is None:
        raise UserInputError(f"{key}: no labelled samples to train on")
    metrics, artifact = judge_and_save(store, trained, request, key, frame, names, predictions)
    # recorded, not counted as a look at the hold-out: it scored forecasts earlier trainings made (``trials``)
    holdout = scored_holdout(frame, predictions, request.horizon, request.holdout)
    trials = ForecastTrials(db)
    await trials.record(key, request, holdout, metrics, forecasts=STORED, version=artifact.version, by=by)
    seen = selection(await trials.seen(key, holdout, frame, cut=cut))
    return {
        "model": request.model,
        "series": str(key),
        "artifact": artifact.as_dict(),
        "evaluation": {**metrics, **seen},
    }


async def _train_again(
    db: Database,
    request: TrainRequest,
    store: ArtifactStore,
    key: SeriesKey,
    frame: pd.DataFrame,
    strategies: Strategies,
    reason: str,
    *,
    by: str,
    cut: bool,
) -> dict[str, Any]:
    """The refit of a series whose stored forecasts were made from candles that changed since (``reason``,
    ``collectors.forecast_candles``): for these candles the series was never trained, so it gets what a
    series never trained gets, a full walk-forward that replaces the stored forecasts (and records these
    candles); scoring the old forecasts against the new candles, as a refit scores its stored series,
    would judge forecasts of other prices. Refused (``CandlesChanged``), nothing trained, while strategies
    in paper, active or paused state read the series: their past forecasts are never rewritten."""
    from mastertrade.engine.collectors.forecast_candles import CandlesChanged
    from mastertrade.engine.ml.publish import readers

    found = await readers(strategies, request.model, key, request.horizon)
    if found:
        one = len(found) == 1
        raise CandlesChanged(
            f"{reason}; the nightly refit did not train it: strateg{'y' if one else 'ies'} {', '.join(found)}"
            f" read{'s' if one else ''} the series, and a training replaces the past forecasts"
            f" {'it' if one else 'they'} traded on: retire {'it' if one else 'them'} first"
            " (`mt strategy retire ID`)"
        )
    log.warning(
        "ml_retrain: %s; trained again from the current candles, replacing the stored forecasts", reason
    )
    extra = await _training_extra(db, request, key, frame)
    summary = await _train(
        db, request, store, key, frame, extra, None, strategies, refuse_empty=False, by=by, cut=cut
    )
    return {**summary, "candles_changed": reason}


async def evaluate_stored(
    db: Database,
    model: str,
    symbol: str,
    timeframe: str,
    exchange: str | None,
    horizon: int,
    holdout: float,
    threshold: float,
    *,
    cash: float | None = None,
    fee: float | None = None,
    until: int | None = None,
    store: ArtifactStore | None = None,
) -> dict[str, Any]:
    """Score the stored forecast series on its hold-out, and backtest a plain threshold genome there
    with ``cash`` and ``fee`` (the trader's ``[backtest]`` ones from the CLI; the engine's by default).
    ``until``: a replay's market time (``market.as_of``): only the bars closed by then are read, and the
    report says it (``market_time``, ``after_market_time_bars``). Refused (``CandlesChanged``) when the
    forecasts were made from candles that have changed since (``collectors.forecast_candles``)."""
    from mastertrade.engine.backtest.fast import run_fast
    from mastertrade.engine.backtest.result import DEFAULT_CASH, DEFAULT_FEE
    from mastertrade.engine.backtest.runner import backtest
    from mastertrade.engine.collectors.forecast_candles import check as check_candles
    from mastertrade.engine.collectors.provider import StoredFeatures
    from mastertrade.engine.market.as_of import left_out
    from mastertrade.engine.market.timeframes import to_iso
    from mastertrade.engine.ml.evaluation import check_holdout, evaluate, holdout_start, versus_naive
    from mastertrade.engine.ml.trials import ForecastTrials, scored_holdout, selection
    from mastertrade.engine.ml.windows import labels
    from mastertrade.engine.signals.genome import parse_genome, required_features
    from mastertrade.engine.signals.indicators import IndicatorCache

    model_class(model)
    check_holdout(holdout)
    key, frame = await load_frame(db, symbol, timeframe, exchange, until=until)
    cut = {} if until is None else await left_out(db, key, until)
    predictions = await stored_predictions(db, model, key, horizon, frame)
    if np.isnan(predictions).all():
        raise NotFound(f"no {model} forecasts (horizon {horizon}) of {key}; train with `mt ml train {model}`")
    await check_candles(db, model, key, horizon, store=store, frame=frame, until=until)
    opens = pd.DatetimeIndex(frame.index).as_unit("ms").asi8
    close = frame["close"].to_numpy(dtype=np.float64)
    y = labels(close, horizon)
    report = evaluate(predictions, y, close, horizon, holdout, opens)
    # how many trainings saw this hold-out: more than one, and the verdict kept was chosen on it
    seen = await ForecastTrials(db).seen(
        key, scored_holdout(frame, predictions, horizon, holdout), frame, cut=until is not None
    )
    report = {**report, **selection(seen)}
    start = holdout_start(predictions, y, holdout)
    if not report.get("bars") or start is None:
        return {"series": str(key), "model": model, "horizon": horizon, **report, **cut}
    first = int(np.flatnonzero(~np.isnan(predictions))[0])
    window = frame.iloc[start:]
    genome = parse_genome(threshold_genome(model, horizon, threshold, key))
    provider = await StoredFeatures.load(
        db,
        required_features(genome),
        timeframe=key.timeframe,
        simulated=key.simulated,
        exchange=key.exchange,
        market=key.symbol,
        stale="read",  # checked above, against this store
    )
    result = backtest(
        genome,
        window,
        cash=DEFAULT_CASH if cash is None else cash,
        fee=DEFAULT_FEE if fee is None else fee,
        cache=IndicatorCache(window, features=provider),
    )
    # a position still open at the hold-out's end is no closed trade: said beside the count, as `mt
    # backtest` says it ("0 trades" beside buy-and-hold's return read as a strategy that never traded)
    metrics = {**result.metrics(), "open_trade": result.open_trade}
    # Buy-and-hold as `mt validate` and the generator have it: entered by the engine at the first bar
    # any strategy can trade on (the first bar takes no decision; its fill is the next open) and held,
    # with the same cash and fees as the threshold strategy.
    always = np.ones(len(window), dtype=np.bool_)
    hold = float(run_fast(window, always, ~always, cash=result.cash, fee=result.fee).metrics()["return_pct"])
    return {
        "series": str(key),
        "model": model,
        "horizon": horizon,
        "holdout_start": to_iso(int(opens[start])),
        "holdout_end": to_iso(int(opens[-1])),
        "first_forecast": to_iso(int(opens[first])),
        **report,
        "backtest": {
            "genome": genome.model_dump(mode="json"),
            "metrics": metrics,
            "buy_and_hold_return_pct": hold,
            "verdict": versus_naive("the threshold strategy", metrics["return_pct"], hold),
        },
        **cut,
    }


async def latest_model(
    model: str,
    key: SeriesKey,
    horizon: int,
    store: ArtifactStore | None = None,
    *,
    db: Database | None = None,
    until: int | None = None,
) -> LoadedModel:
    """The newest stored model of the series, checked; with ``until`` (a market time, epoch ms: the close
    of the bar to forecast from) the newest trained by then (:mod:`.serving`: on a replay a newer one has
    seen the bars after it), or :class:`~.serving.NoModelYet` when none was. A folder of the series that
    does not load and may be the one that serves (changed on disk, unreadable manifest) is an error naming
    it, never a silent fall back to an older model or a "no model" that hides it. With ``db``, a model a
    killed training left unpublished is settled first (:func:`.pending.settle`)."""
    from mastertrade.engine.ml.serving import not_yet, serving, trained_through
    from mastertrade.utc import iso_ms

    store = store or ArtifactStore.default()
    if db is not None:
        from mastertrade.engine.ml.pending import settle

        await settle(db, store)
    cls_ = model_class(model)
    wanted = artifact_key(key, horizon)
    versions = store.versions(KIND, model, wanted)
    chosen = serving(versions, until)
    newest = chosen.created_at if chosen is not None else ""
    loaded = {artifact.path.name for artifact in versions}
    parent = store.root / KIND / model / safe_key(str(v) for v in wanted.values())
    for folder in sorted(parent.iterdir()) if parent.is_dir() else ():
        if folder.name in loaded or folder.name.startswith(".") or not (folder / MANIFEST).is_file():
            continue
        try:
            store.open(folder)
        except IncompatibleArtifact as exc:
            head = _manifest(folder)
            made, meta, made_for = head.get("created_at"), head.get("meta"), head.get("key")
            if until is not None and isinstance(meta, dict) and isinstance(made_for, dict):
                through = trained_through(meta, made_for)
                if through is not None and through > until:
                    continue  # trained after the market time: it would not serve it, loadable or not
            if not isinstance(made, str) or made > newest:
                by = "" if until is None else f" trained by {iso_ms(until)}"
                raise IncompatibleArtifact(
                    f"{exc}; it is the newest {model} model of {key} (horizon {horizon}){by}:"
                    f" train again with `mt ml train {model}`"
                ) from None
    if not versions:
        raise NotFound(
            f"no trained {model} model of {key} with horizon {horizon} (train one with `mt ml train {model}`)"
        )
    if chosen is None and until is not None:
        raise not_yet(model, str(key), horizon, versions, until)
    artifact = store.open((chosen or versions[-1]).path, require=cls_.libraries)
    return LoadedModel.open(artifact, store)


def _manifest(folder: Path) -> dict[str, Any]:
    """The manifest in ``folder`` as it is written, unchecked (empty when it cannot be read)."""
    import json

    try:
        head = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return head if isinstance(head, dict) else {}


async def predict_latest(
    db: Database,
    loaded: LoadedModel,
    key: SeriesKey,
    *,
    publish: bool = True,
    at_bar: int | None = None,
    store: ArtifactStore | None = None,
) -> dict[str, Any]:
    """The forecast made at the close of the newest stored bar (of the bar opened at ``at_bar``, when given:
    the one that just closed; on a replay the newest stored bar is one it has yet to play); stored as a
    feature point when ``publish``. Refused (``CandlesChanged``) when the stored series' forecasts were
    made from candles that have changed since (``collectors.forecast_candles``): the value it holds for
    the bar, and any added to it, would sit beside forecasts of other prices. Refused (``NoModelYet``)
    when ``loaded`` was trained after that bar's close (:mod:`.serving`): its forecast would have seen the
    bars after it (``latest_model`` with ``until`` finds the version that may)."""
    from mastertrade.engine.collectors.forecast_candles import add_forecast, covered, read_stamp
    from mastertrade.engine.collectors.forecast_candles import check as check_candles
    from mastertrade.engine.collectors.store import FeatureStore
    from mastertrade.engine.market.store import CandleStore
    from mastertrade.engine.market.timeframes import timeframe_ms, to_iso
    from mastertrade.engine.ml.series import forecast_points
    from mastertrade.engine.ml.serving import check_serves

    step = timeframe_ms(key.timeframe)
    # checked up to the close of the bar forecast from: on a replay, the bars after it are still to play
    closed = None if at_bar is None else at_bar + step
    await check_candles(db, loaded.artifact.name, key, loaded.horizon, store=store, until=closed)
    candles = CandleStore(db)
    end = None if at_bar is None else at_bar + 1
    last = await candles.last_ts(key, before=end)
    start = None if last is None else int(last) - LIVE_BARS * step
    frame = await candles.read(key, start, end)
    if frame.empty:
        raise NotFound(f"no candles of {key}")
    frame = frame.iloc[-LIVE_BARS:]
    opens = pd.DatetimeIndex(frame.index).as_unit("ms").asi8
    bar = int(opens[-1])
    check_serves(loaded.artifact, bar)
    extra = await load_extra(db, loaded.extra, key, frame)
    value = loaded.predict_last(frame, extra)
    name = series_name(loaded.artifact.name, loaded.horizon, key.timeframe, key.exchange)
    features = FeatureStore(db)
    stored = await features.read(source(key.simulated), name, key.symbol, published_from=bar + step)
    # A forecast already stored for this bar (by the walk-forward or an earlier call) is kept: replacing
    # it would revise a value as of a publication time that has passed.
    held = stored.values[stored.ts == bar]
    kept = float(held[-1]) if held.shape[0] else None
    published = False
    if value is not None and publish and kept is None:
        # What it read beyond the candles already recorded (the training's, the forecasts added before it)
        # is recorded with it, so a later rewrite of those bars is caught (``collectors.forecast_candles``).
        after = await covered(db, loaded.artifact.name, key, loaded.horizon, bar, store=store)
        read = read_stamp(frame, after, bar)
        points = forecast_points(name, key.symbol, opens[-1:], np.array([value]), step)
        async with db.engine.begin() as conn:
            published = not await features.add_missing(conn, source(key.simulated), points)
            if published:
                await add_forecast(conn, loaded.artifact.name, key, loaded.horizon, bar, read)
        if not published:  # another process stored this bar's forecast meanwhile: that one stands
            now = await features.read(source(key.simulated), name, key.symbol)
            held = now.values[now.ts == bar]
            kept = float(held[-1]) if held.shape[0] else None
    return {
        "model": loaded.artifact.name,
        "version": loaded.artifact.version,
        "series": str(key),
        "horizon": loaded.horizon,
        "bar": to_iso(bar),
        "published_at": to_iso(bar + step),
        "forecast": value,
        "stored": published,
        "already_stored": kept is not None,
        # What strategies read for this bar: the value already stored (the walk-forward's model made it,
        # not necessarily this one), else this forecast once published.
        "series_value": kept if kept is not None else value if published else None,
    }
