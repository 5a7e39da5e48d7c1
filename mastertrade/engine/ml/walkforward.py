"""Walk-forward forecasting: every prediction is made by a model trained only on labels known before it.

Retraining happens at bars T_0, T_0 + N, T_0 + 2N ... (``retrain_every`` = N). The model trained at the
close of T_k learns from the samples t <= T_k - horizon (their labels are known at that close) with
features standardised on rows up to T_k, and makes the predictions of bars T_k .. T_k + N - 1, each at
that bar's close from the window ending at it. T_0 is the first bar at which ``train_bars`` samples
have known labels, so it depends only on data up to T_0. Nothing reads a row after the bar it predicts
for, and the whole run is deterministic for a seed: cutting the data after any bar t leaves every
prediction up to t unchanged (``tests/ml`` checks it across a retraining boundary).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mastertrade.engine.ml.features import BAR_FEATURES, FloatArray, bar_features
from mastertrade.engine.ml.models import Forecaster, ModelConfig, model_class
from mastertrade.engine.ml.windows import Scaler, known_labels, labels, stack, window_indices

Progress = Callable[[int, int, str], None]
Check = Callable[[], None]
"""Called after every step of a fit; raises once the training is cancelled (see ``ml.stoppable``)."""


@dataclass(frozen=True)
class ForecastSpec:
    """What to forecast and how often to retrain."""

    model: str
    horizon: int = 1
    train_bars: int = 500
    """Samples with known labels needed before the first model is trained."""
    retrain_every: int = 168
    """Bars between retrainings (168: weekly on 1h bars)."""
    max_train: int | None = None
    """Train on at most this many of the newest known samples (None: all of them)."""
    seed: int = 0
    config: ModelConfig = field(default_factory=ModelConfig)


@dataclass
class TrainedModel:
    """One fitted model with the scaler and the samples it learnt from (bar indices)."""

    model: Forecaster
    scaler: Scaler
    at: int
    """The bar at whose close it was trained."""
    first_sample: int
    last_sample: int


@dataclass
class ForecastRun:
    """The outcome of a walk-forward over one frame."""

    predictions: FloatArray
    """The forecast made at the close of each bar (NaN where no model existed yet)."""
    labels: FloatArray
    retrains: list[int]
    feature_names: list[str]
    last: TrainedModel | None = None


def prepare(
    frame: pd.DataFrame, extra: Mapping[str, FloatArray] | None
) -> tuple[FloatArray, np.ndarray[Any, np.dtype[np.bool_]], list[str]]:
    """The feature rows of ``frame``, which rows have every candle feature, and the column names."""
    table = bar_features(frame, extra)
    values = table.to_numpy(dtype=np.float64)
    valid = ~np.isnan(values[:, : len(BAR_FEATURES)]).any(axis=1)
    return values, valid, list(table.columns)


def fit_at(
    spec: ForecastSpec,
    values: FloatArray,
    valid: np.ndarray[Any, np.dtype[np.bool_]],
    y: FloatArray,
    at: int,
    seed: int,
    check: Check | None = None,
) -> TrainedModel | None:
    """Train the model of bar ``at`` (see the module docstring), or None when no sample is known yet."""
    window = spec.config.window
    ends = window_indices(valid, window, 0, known_labels(at, spec.horizon))
    ends = ends[~np.isnan(y[ends])]
    if spec.max_train is not None:
        ends = ends[-spec.max_train :]
    if ends.shape[0] == 0:
        return None
    scaler = Scaler.fit(values[ends[0] - window + 1 : at + 1])
    scaled = scaler.transform(values)
    model = model_class(spec.model)(values.shape[1], spec.config, seed)
    model.fit(stack(scaled, ends, window), y[ends], check=check)
    return TrainedModel(model, scaler, at, int(ends[0]), int(ends[-1]))


def predict_rows(
    trained: TrainedModel,
    values: FloatArray,
    valid: np.ndarray[Any, np.dtype[np.bool_]],
    start: int,
    stop: int,
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], FloatArray]:
    """Predictions of bars ``start..stop`` (those with a full window) by ``trained``."""
    window = trained.model.config.window
    ends = window_indices(valid, window, start, stop)
    if ends.shape[0] == 0:
        return ends, np.zeros(0)
    lo = int(ends[0]) - window + 1
    scaled = trained.scaler.transform(values[lo : int(ends[-1]) + 1])
    return ends, trained.model.predict(stack(scaled, ends - lo, window))


def walk_forward(
    frame: pd.DataFrame,
    spec: ForecastSpec,
    *,
    extra: Mapping[str, FloatArray] | None = None,
    progress: Progress | None = None,
    final: bool = False,
    check: Check | None = None,
) -> ForecastRun:
    """Forecasts for every bar of ``frame`` by walk-forward; ``final`` also trains the model of the last
    bar (the one to keep for predicting bars still to come); every fit calls ``check`` after each step."""
    values, valid, names = prepare(frame, extra)
    n = values.shape[0]
    y = labels(frame["close"].to_numpy(dtype=np.float64), spec.horizon)
    predictions = np.full(n, np.nan)
    candidates = window_indices(valid, spec.config.window, 0, n - 1)
    candidates = candidates[~np.isnan(y[candidates])]
    run = ForecastRun(predictions, y, [], names)
    if candidates.shape[0] < spec.train_bars:
        return run
    first = int(candidates[spec.train_bars - 1]) + spec.horizon
    points = list(range(first, n, spec.retrain_every))
    total = len(points) + (1 if final else 0)
    for k, at in enumerate(points):
        if progress is not None:
            progress(k, total, f"training {spec.model} at bar {at}")
        trained = fit_at(spec, values, valid, y, at, spec.seed + k, check)
        if trained is None:
            continue
        run.retrains.append(at)
        ends, predicted = predict_rows(trained, values, valid, at, min(at + spec.retrain_every, n) - 1)
        predictions[ends] = predicted
        run.last = trained
    if final:
        if progress is not None:
            progress(len(points), total, f"training the final {spec.model} model")
        run.last = fit_at(spec, values, valid, y, n - 1, spec.seed + len(points), check)
    if progress is not None:
        progress(total, total, "done")
    return run
