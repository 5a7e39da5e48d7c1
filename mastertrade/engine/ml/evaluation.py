"""How good a forecast is, against naive baselines, on a hold-out it was never trained or tuned on.

The walk-forward forecasts are all out-of-sample (each was made by a model trained before its bar), and
the models' hyper-parameters are fixed in advance, so the newest ``holdout`` share of the forecast bars is
a fair test of one training. Of one only: a trader who trains the series again with other settings and
keeps the best verdict chooses on the hold-out, so the registry of trainings (:mod:`.trials`) counts how
many saw it, and the commands say so beside the verdict. Baselines: *zero* (predict no change, the random
walk) and *last* (predict that the last ``horizon`` bars' return repeats). Reported: directional accuracy
(sign hits, zeros excluded), rank IC (Spearman correlation of forecast and outcome), and the mean squared
error as a ratio to each baseline's (below 1 beats it). The verdict says plainly which baselines the model
loses to (a baseline that forecast every outcome exactly counts as lost to). It never says the model beats
them on fewer than ``MIN_JUDGED_BARS`` independent hold-out outcomes: a lower error on a handful of them
is luck as often as skill. With a horizon of h bars, consecutive outcomes (returns over h bars) share
h - 1 bars, so the hold-out's bars hold only bars / h independent ones: 100 bars of 48-bar returns are two
outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mastertrade.errors import UserInputError
from mastertrade.utc import iso_ms

FloatArray = np.ndarray[Any, np.dtype[np.float64]]

MIN_JUDGED_BARS = 30
"""Fewest independent hold-out outcomes (bars, or bars / horizon for overlapping returns) on which the
verdict may say the model beats the baselines."""


@dataclass(frozen=True)
class Scores:
    bars: int
    directional_accuracy: float | None
    rank_ic: float | None
    mse: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "bars": self.bars,
            "directional_accuracy": self.directional_accuracy,
            "rank_ic": self.rank_ic,
            "mse": self.mse,
        }


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def scores(predicted: FloatArray, actual: FloatArray) -> Scores:
    hit_mask = (np.sign(predicted) != 0) & (np.sign(actual) != 0)
    accuracy = (
        float(np.mean(np.sign(predicted[hit_mask]) == np.sign(actual[hit_mask]))) if hit_mask.any() else None
    )
    if predicted.shape[0] > 2 and np.ptp(predicted) > 0 and np.ptp(actual) > 0:
        ic = _finite(pd.Series(predicted).corr(pd.Series(actual), method="spearman"))
    else:
        ic = None
    return Scores(int(predicted.shape[0]), accuracy, ic, float(np.mean((predicted - actual) ** 2)))


def last_returns(close: FloatArray, horizon: int) -> FloatArray:
    """The log return over the ``horizon`` bars ending at each bar (NaN at the start)."""
    logc = np.log(np.asarray(close, dtype=np.float64))
    out = np.full(logc.shape[0], np.nan)
    out[horizon:] = logc[horizon:] - logc[:-horizon]
    return out


def check_holdout(holdout: float) -> None:
    if not 0 < holdout < 1:
        raise UserInputError(f"--holdout {holdout}: must be between 0 and 1")


def holdout_mask(
    predictions: FloatArray, labels: FloatArray, holdout: float
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """The newest ``holdout`` share of the bars that have both a forecast and a known outcome: the one
    definition of the hold-out, for its scores and for the backtest on it (:func:`holdout_start`)."""
    usable = np.flatnonzero(~np.isnan(predictions) & ~np.isnan(labels))
    mask = np.zeros(predictions.shape[0], dtype=bool)
    if usable.shape[0] == 0:
        return mask
    count = max(1, int(round(usable.shape[0] * holdout)))
    mask[usable[-count:]] = True
    return mask


def holdout_start(predictions: FloatArray, labels: FloatArray, holdout: float) -> int | None:
    """The first bar of the hold-out (None when no bar has a forecast and a known outcome)."""
    found = np.flatnonzero(holdout_mask(predictions, labels, holdout))
    return int(found[0]) if found.shape[0] else None


def scored_mask(
    predictions: FloatArray, labels: FloatArray, close: FloatArray, horizon: int, holdout: float
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """The hold-out bars the verdict is scored on: those of :func:`holdout_mask` where the last-return
    baseline is known too (what :func:`evaluate` scores, and what the registry of trainings records as
    the hold-out a training saw, ``trials``)."""
    known: np.ndarray[Any, np.dtype[np.bool_]] = ~np.isnan(last_returns(close, horizon))
    return holdout_mask(predictions, labels, holdout) & known


def evaluate(
    predictions: FloatArray,
    labels: FloatArray,
    close: FloatArray,
    horizon: int,
    holdout: float,
    opens: np.ndarray[Any, np.dtype[np.int64]] | None = None,
) -> dict[str, Any]:
    """Model and baseline scores on the hold-out, error ratios, and a one-line verdict; with the bars'
    ``opens`` (epoch ms), the first and last hold-out bar as ``start`` and ``end``."""
    mask = scored_mask(predictions, labels, close, horizon, holdout)
    last = last_returns(close, horizon)
    if not mask.any():
        return {"bars": 0, "verdict": "no hold-out bars with a forecast and a known outcome"}
    dated: dict[str, Any] = {}
    if opens is not None:
        inside = np.flatnonzero(mask)
        dated = {"start": iso_ms(int(opens[inside[0]])), "end": iso_ms(int(opens[inside[-1]]))}
    actual = labels[mask]
    model = scores(predictions[mask], actual)
    zero = scores(np.zeros_like(actual), actual)
    repeat = scores(last[mask], actual)
    ratio_zero = model.mse / zero.mse if zero.mse > 0 else None
    ratio_last = model.mse / repeat.mse if repeat.mse > 0 else None
    losses = [
        name
        for name, ratio, baseline in (("zero-return", ratio_zero, zero), ("last-return", ratio_last, repeat))
        if (ratio >= 1 if ratio is not None else model.mse >= baseline.mse)
    ]
    # "higher" only when it is: a model as exact as a baseline (a flat market) ties with it, and loses
    higher = all(
        model.mse > baseline.mse
        for name, baseline in (("zero-return", zero), ("last-return", repeat))
        if name in losses
    )
    outcomes = model.bars // horizon if horizon > 1 else model.bars
    few = outcomes < MIN_JUDGED_BARS
    bars = f"{model.bars} hold-out bar{'s' if model.bars > 1 else ''}"
    independent = f"{outcomes} independent outcome{'s' if outcomes != 1 else ''}"
    overlapping = f"of overlapping {horizon}-bar returns"
    if losses:
        on_only = f", on only {bars}" if horizon == 1 else f", on only {independent}: {bars} {overlapping}"
        verdict = (
            "loses to the "
            + " and the ".join(losses)
            + " baseline"
            + ("s" if len(losses) > 1 else "")
            + (" (higher squared error" if higher else " (no lower squared error")
            + (f"{on_only})" if few else ")")
        )
    elif few:
        too_few = (
            f"{bars} {'are' if model.bars > 1 else 'is'} too few"
            if horizon == 1
            else f"{bars} {overlapping} hold only {independent}, too few"
        )
        verdict = (
            f"cannot be judged: {too_few} (at least {MIN_JUDGED_BARS} needed); its lower squared error"
            " than the baselines there proves nothing"
        )
    else:
        verdict = "beats the zero-return and last-return baselines (lower squared error)"
    return {
        "bars": model.bars,
        "independent_outcomes": outcomes,
        "model": model.as_dict(),
        "zero_return": zero.as_dict(),
        "last_return": repeat.as_dict(),
        "error_ratio_zero": ratio_zero,
        "error_ratio_last": ratio_last,
        "judged": bool(losses) or not few,
        "verdict": verdict,
        **dated,
    }


def versus_naive(subject: str, return_pct: float, buy_hold_pct: float) -> str:
    """How a strategy's hold-out return compares with the two naive ones, in words: buy-and-hold, and
    staying flat (0%), so that a loss is never reported as a win only because the market fell more."""

    def against(other: float) -> str:
        return "beats" if return_pct > other else "loses to" if return_pct < other else "ties with"

    hold, flat = against(buy_hold_pct), against(0.0)
    if hold == flat:
        return f"{subject} {hold} buy-and-hold and staying flat on the hold-out"
    return f"{subject} {hold} buy-and-hold but {flat} staying flat on the hold-out"
