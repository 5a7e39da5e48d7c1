"""Alternative-data terms in genomes: ``{"feature": NAME, ...parameters}``.

A *feature* is a series that does not come from the candles: news sentiment, the fear & greed index,
on-chain or macro data. The genome grammar already has the ``feature`` term kind; what a feature may be
called and which parameters it takes comes from this registry, so the collectors add their series
without touching the grammar, the evaluator or the canonical form:

1. Describe the feature and register it (the collectors' own features are in the catalogue,
   :mod:`.feature_catalog`, which the registry starts with; a plugin registers its own)::

       register_feature(SeriesSpec(
           "sentiment", "Sentiment", "VADER compound score of recent news, -1..1",
           params=(Param("symbol", "str", "BTC", doc="base asset"),),
           outputs=(Output(SINGLE, "sentiment", "sentiment", thresholds=(-0.3, 0.3)),),
       ))
       register_feature(SeriesSpec("fear_greed", "Fear & Greed", "0 extreme fear .. 100 extreme greed",
           outputs=(Output(SINGLE, "fear & greed", "fear_greed", thresholds=(20, 80)),)))

   Genomes can now say ``{"<": [{"feature": "fear_greed"}, 25]}`` or
   ``{">": [{"feature": "sentiment", "symbol": "BTC"}, 0.2]}``; validation, JSON paths in errors,
   ``describe``, the canonical form and the random generator (``features=True``) all follow the spec.

2. Hand the values to the evaluation: build the cache with a provider,
   ``IndicatorCache(frame, features=provider)``, where a provider is any callable
   ``(name, params, frame) -> {output: array of len(frame)}``. :class:`SeriesFeatures` is a ready one
   for stored, timestamped observations: it aligns each one to the first bar whose close comes after
   it, which is exactly the no-lookahead rule every provider must keep (a signal at bar t may only use
   what was published before bar t closed).

``genome.required_features`` lists the (name, params) a genome needs, so a caller can load just those.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd

from mastertrade.engine.signals.feature_catalog import catalogue_specs
from mastertrade.engine.signals.specs import SINGLE, ParamError, Params, ParamValue, SeriesSpec

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

FEATURES: dict[str, SeriesSpec] = {spec.name: spec for spec in catalogue_specs()}
"""The registry: the catalogue's features, then whatever ``register_feature`` added."""


def register_feature(spec: SeriesSpec) -> None:
    """Make ``spec.name`` usable in genomes as ``{"feature": name, ...}``."""
    if not spec.outputs:
        raise ValueError(f"feature {spec.name} declares no outputs")
    FEATURES[spec.name] = spec


def unregister_feature(name: str) -> None:
    FEATURES.pop(name, None)


def feature_spec(name: str) -> SeriesSpec:
    try:
        return FEATURES[name]
    except KeyError:
        known = ", ".join(sorted(FEATURES)) or "none registered"
        raise ParamError(None, f"unknown feature {name!r} (known: {known})") from None


class FeatureProvider(Protocol):
    """Supplies a feature's outputs aligned with the candle frame, without lookahead."""

    def __call__(
        self, name: str, params: Mapping[str, ParamValue], frame: pd.DataFrame
    ) -> Mapping[str, ArrayLike | None]: ...


class SeriesFeatures:
    """A provider over timestamped observations: ``{(name, params): Series or DataFrame}``.

    ``params`` is the validated parameter tuple (as in ``required_features``); a Series holds a
    single-output feature, a DataFrame one column per output. Each observation's index is the UTC
    time it became known. Bar t (opening at ``index[t]``, closing ``bar_ms`` later) sees the latest
    observation strictly before its close; bars before the first observation get NaN.
    """

    def __init__(self, observations: Mapping[tuple[str, Params], pd.Series | pd.DataFrame], bar_ms: int):
        self._observations = dict(observations)
        self._bar = pd.Timedelta(milliseconds=bar_ms)

    def __call__(
        self, name: str, params: Mapping[str, ParamValue], frame: pd.DataFrame
    ) -> Mapping[str, ArrayLike | None]:
        spec = feature_spec(name)
        key = (name, tuple((p.name, params[p.name]) for p in spec.params))
        if key not in self._observations:
            return {out.name: None for out in spec.outputs}
        data = self._observations[key]
        table = data.to_frame(SINGLE) if isinstance(data, pd.Series) else data
        table = table.sort_index()
        if not isinstance(table.index, pd.DatetimeIndex) or not isinstance(frame.index, pd.DatetimeIndex):
            raise TypeError(f"observations of feature {name} and the candles need a DatetimeIndex")
        observed = table.index.as_unit("ns").asi8
        bar_closes = (frame.index + self._bar).as_unit("ns").asi8
        # the last observation strictly before each bar's close
        position = np.searchsorted(observed, bar_closes, side="left") - 1
        result: dict[str, ArrayLike | None] = {}
        for out in spec.outputs:
            column = table[out.name].to_numpy(dtype=np.float64)
            values = np.where(position >= 0, column[np.clip(position, 0, None)], np.nan)
            result[out.name] = values
        return result
