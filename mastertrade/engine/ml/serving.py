"""Which stored version of a forecast model may serve a forecast made at market time t.

A forecast is published at the close of the bar it is made from and must come from a model trained only on
what was known then (the walk-forward's discipline, :mod:`.walkforward`). A stored model was trained at the
close of one bar (``trained_at_bar`` in its meta): it learnt from the labels known then and scaled its
inputs on the rows up to it. So it may serve market time t when that close is at or before t
(:func:`trained_through`); of the versions of a series that may, the newest (by creation, as the store
orders them) serves, and a newer one waits until the market time reaches its training.

The rule holds for every forecast made from a bar's close. Outside a replay it rarely bites: models are
trained on closed bars and the bar forecast from is the one that just closed (a daemon catching up on bars
after a training of newer ones is the exception, and is held to it too). A replay's store holds the bars it
has yet to play, and its models folder may hold a model trained on them (before the workspace replayed, or
by a refit of the whole history): forecasting the replay's bars with it would hand the forecasts, and the
signals, forecast terms, paper books and parity reading them, the replay's future.
The forecasts service, `mt ml predict` and the registry's "in use" (``registry.model_users``) all ask this
module; with no version that may serve, no forecast is made (:class:`NoModelYet`), never one from a model
that has seen the bars after it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mastertrade.engine.market.timeframes import timeframe_ms
from mastertrade.errors import NotFound
from mastertrade.utc import iso_ms

if TYPE_CHECKING:
    from mastertrade.artifacts import Artifact


class NoModelYet(NotFound):
    """No stored version of the model was trained by the market time a forecast is made at."""


def trained_through(meta: Mapping[str, Any], key: Mapping[str, Any]) -> int | None:
    """The market time (epoch ms) by which everything a forecast model learnt from was known: the close
    of the bar it was trained at, from its manifest's ``meta`` and ``key``; None when they do not say."""
    at, timeframe = meta.get("trained_at_bar"), key.get("timeframe")
    if not isinstance(at, int) or not isinstance(timeframe, str):
        return None
    return at + timeframe_ms(timeframe)


def may_serve(meta: Mapping[str, Any], key: Mapping[str, Any], at: int | None) -> bool:
    """Whether the model whose manifest holds ``meta`` and ``key`` may make a forecast at market time
    ``at`` (None: any, the newest bar's); one that does not say when it was trained may not."""
    if at is None:
        return True
    through = trained_through(meta, key)
    return through is not None and through <= at


def serves(artifact: Artifact, at: int | None) -> bool:
    """:func:`may_serve` for a stored artifact."""
    return may_serve(artifact.meta, artifact.key, at)


def serving(versions: Sequence[Artifact], at: int | None) -> Artifact | None:
    """The version (of ``versions``, oldest first) that serves market time ``at``: the newest that may."""
    return next((artifact for artifact in reversed(versions) if serves(artifact, at)), None)


def not_yet(model: str, series: str, horizon: int, versions: Sequence[Artifact], at: int) -> NoModelYet:
    """The refusal when none of the stored ``versions`` may serve market time ``at``."""
    known = [t for t in (trained_through(a.meta, a.key) for a in versions) if t is not None]
    first = f"the first serves from {iso_ms(min(known))}, or train" if known else "train"
    return NoModelYet(
        f"no {model} model of {series} (horizon {horizon}) was trained by {iso_ms(at)}: the"
        f" {len(versions)} stored learnt from bars after it, and a forecast from one would have seen the"
        f" future; {first} one on the bars closed by then (`mt ml train {model}` in this workspace, the"
        " daemon's ml_retrain job)"
    )


def check_serves(artifact: Artifact, bar: int) -> None:
    """Refuse (:class:`NoModelYet`) a forecast made at the close of ``bar`` (an open time) by a model
    trained after that close."""
    at = bar + timeframe_ms(str(artifact.key.get("timeframe")))
    if serves(artifact, at):
        return
    through = trained_through(artifact.meta, artifact.key)
    when = "at an unrecorded time" if through is None else f"at {iso_ms(through)}"
    raise NoModelYet(
        f"model {artifact.version} was trained {when}, after the close of the bar {iso_ms(bar)} it was"
        f" asked to forecast from ({iso_ms(at)}): that forecast would have seen the bars after it"
    )
