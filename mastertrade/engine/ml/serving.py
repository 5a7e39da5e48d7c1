"""Which stored artefact may serve market time t: a version of a forecast model, a trading policy.

A forecast is published at the close of the bar it is made from, and a policy's signal is given at the
close of the bar it reads; either must come from an artefact that learnt only from what was known then
(the walk-forward's discipline, :mod:`.walkforward`). So a stored artefact may serve market time t when
everything it learnt from was known by t (:func:`serves_from`):

- a forecast model was trained at the close of one bar (``trained_at_bar`` in its meta): it learnt from
  the labels known then and scaled its inputs on the rows up to it (:func:`trained_through`);
- a policy (``mt rl train``) was trained on its search window's bars and scaled its observations on them:
  it learnt from the bars up to the close of the last one (``train_end``, an open time, in its manifest).

Of the versions of a forecast model's series that may serve, the newest (by creation, as the store orders
them) serves, and a newer one waits until the market time reaches its training (:func:`serving`). A
policy is no "newest version" pick: a strategy names it by hand (``model:<id>``), so it serves the bars
whose close is at or after its training's end (:func:`served_bars`) and trades none before.

The rule holds for every forecast and signal made from a bar's close. Outside a replay it rarely bites:
artefacts are trained on closed bars and the bar read is the one that just closed (a daemon catching up on
bars after a training is the exception, and is held to it too). A replay's store holds the bars it has yet
to play, and its models folder may hold an artefact trained on them (before the workspace replayed, or by
a refit of the whole history): serving the replay's bars with it would hand the forecasts, signals,
forecast terms, paper books and parity reading them the replay's future.
The forecasts service, `mt ml predict` and the registry's "in use" (``registry.model_users``) ask this
module for forecast models; with no version that may serve, no forecast is made (:class:`NoModelYet`).
The daemon's trader asks it for the policies it trades (:mod:`.serving_policy`); a policy that may not
serve a bar gives no signal there, said once (:func:`policy_not_yet`). Research on the bars a policy
learnt from (``mt backtest``, ``mt validate``) is not trading: it runs, and says those bars are in-sample.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mastertrade.engine.market.timeframes import timeframe_ms
from mastertrade.engine.signals.model.artifact import KIND as POLICY
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


def known_by(start: int | None, at: int | None) -> bool:
    """The rule: an artefact whose learning was all known by market time ``start`` may serve market time
    ``at`` (None: any, the newest bar's) when ``start`` is at or before it; one that does not say
    (``start`` None) may not."""
    return at is None or (start is not None and start <= at)


def may_serve(meta: Mapping[str, Any], key: Mapping[str, Any], at: int | None) -> bool:
    """Whether the forecast model whose manifest holds ``meta`` and ``key`` may make a forecast at market
    time ``at`` (:func:`known_by`)."""
    return known_by(trained_through(meta, key), at)


def serves_from(artifact: Artifact) -> int | None:
    """The market time (epoch ms) by which everything a stored artefact learnt from was known, from which
    on it may serve: a forecast model's :func:`trained_through`, a policy's close of the last bar it was
    trained on. None when its manifest does not say (it then serves no market time)."""
    if artifact.kind != POLICY:
        return trained_through(artifact.meta, artifact.key)
    end, timeframe = artifact.train_end, artifact.key.get("timeframe")
    if not isinstance(end, int) or not isinstance(timeframe, str):
        return None
    return end + timeframe_ms(timeframe)


def serves(artifact: Artifact, at: int | None) -> bool:
    """Whether a stored artefact of either kind may serve market time ``at`` (:func:`known_by`)."""
    return known_by(serves_from(artifact), at)


def served_bars(artifact: Artifact, closes: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """:func:`serves` at each market time of ``closes`` (epoch ms: the closes of the bars signals are
    given at), at once: :func:`known_by` over an array."""
    start = serves_from(artifact)
    at = np.asarray(closes, dtype=np.int64)
    return np.zeros(at.shape, dtype=bool) if start is None else np.asarray(start <= at, dtype=bool)


def serving(versions: Sequence[Artifact], at: int | None) -> Artifact | None:
    """The version (of ``versions``, oldest first) that serves market time ``at``: the newest that may."""
    return next((artifact for artifact in reversed(versions) if serves(artifact, at)), None)


def policy_not_yet(
    artifact: Artifact, at: int, then: str = "until then its signals are left out (it does not trade)"
) -> str:
    """Why the stored policy ``artifact`` may give no signal at market time ``at`` (:func:`serves` is
    False) and from when it may, in the words of :func:`not_yet`; ``then``: what follows until then."""
    key = artifact.key
    policy = (
        f"policy model:{artifact.version} of {key.get('exchange')}:{key.get('symbol')}:{key.get('timeframe')}"
    )
    start = serves_from(artifact)
    if start is None or artifact.train_end is None:
        return (
            f"{policy} does not say when its training ended (no train_end in its manifest): it may have"
            f" learnt from bars after {iso_ms(at)}, and a signal from it could have seen the future; it"
            " serves no bar, and its signals are left out on every one (train it again with `mt rl train`)"
        )
    return (
        f"{policy} was not trained by {iso_ms(at)}: it learnt from the bars to {iso_ms(artifact.train_end)},"
        f" and a signal from it would have seen the future; it serves from that bar's close,"
        f" {iso_ms(start)}; {then}"
    )


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
