"""The feature terms a search may draw besides prices and indicators: the forecasts stored for its series.

``mt ml train`` (and the daemon's nightly retraining) stores each model's walk-forward forecasts as a
feature series of the market (``signals/forecast_term.py``). When such series exist for the symbol and
timeframe searched (on the exchange searched), the search's pool holds one term per stored model and horizon,
``{"feature": "forecast", "model": "lightgbm", "horizon": 1}``, and the problem carries their values
through the same provider a plain backtest uses (``collectors.provider.StoredFeatures``: a value
published at the close of bar t serves only bars that open after it), so a generated strategy's stored
metrics are those of a backtest of it. Without stored forecasts the pool is empty and the search is the
candles-only one.

A forecast series whose candles changed since the training that made it (``collectors.forecast_candles``)
is left out of a generation's pool with a warning (``FeaturePool.stale`` says why, ``mt generate``
warns; the search runs on the rest); other callers may refuse it instead (``stale="refuse"``).

Other stored alternative data (sentiment, on-chain series) stays out of the pool: which of those a
market's genomes should read is the user's choice (written genomes), not the search's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mastertrade.engine.signals.forecast_term import (
    FORECAST,
    FORECAST_MODELS,
    MAX_HORIZON,
    series_name,
    source,
)
from mastertrade.engine.signals.random_genome import FixedTerm

if TYPE_CHECKING:
    from mastertrade.db.database import Database
    from mastertrade.engine.collectors.forecast_candles import Stale
    from mastertrade.engine.collectors.provider import StoredFeatures
    from mastertrade.engine.market.store import SeriesKey


@dataclass(frozen=True)
class FeaturePool:
    """The terms the search may draw and the provider of their values (None when there are none)."""

    terms: tuple[FixedTerm, ...] = ()
    provider: StoredFeatures | None = None
    stale: tuple[str, ...] = ()
    """Why each stored forecast series left out (``stale=SKIP``) was."""

    @property
    def labels(self) -> list[str]:
        return [term.label for term in self.terms]


def forecast_terms(names: list[str], timeframe: str, exchange: str) -> tuple[FixedTerm, ...]:
    """A term for each stored series name that is a forecast of a known model on ``timeframe``'s
    candles of ``exchange``."""
    found = []
    for model in FORECAST_MODELS:
        for horizon in range(1, MAX_HORIZON + 1):
            if series_name(model, horizon, timeframe, exchange) in names:
                found.append(FixedTerm.of(FORECAST, {"model": model, "horizon": horizon}))
    return tuple(found)


async def feature_pool(
    db: Database, key: SeriesKey, *, stale: Stale = "refuse", until: int | None = None
) -> FeaturePool:
    """The forecasts stored for ``key``'s market and timeframe, as terms and a provider of their values;
    ``stale``: refuse (``CandlesChanged``) or leave out (``"skip"``) those whose candles changed (by
    ``until``, a replay's market time: the bars after it are not read)."""
    from mastertrade.engine.collectors.provider import StoredFeatures
    from mastertrade.engine.collectors.store import FeatureStore

    stored = await FeatureStore(db).list_features(source(key.simulated))
    names = [info.name for info in stored if info.symbol == key.symbol and info.rows > 0]
    terms = forecast_terms(names, key.timeframe, key.exchange)
    if not terms:
        return FeaturePool()
    wanted = [(term.name, (*term.params, ("symbol", ""))) for term in terms]
    provider = await StoredFeatures.load(
        db,
        wanted,
        timeframe=key.timeframe,
        simulated=key.simulated,
        exchange=key.exchange,
        market=key.symbol,
        stale=stale,
        until=until,
    )
    kept = tuple(term for term, want in zip(terms, wanted, strict=True) if provider.readable(*want))
    if not kept:
        return FeaturePool(stale=tuple(provider.stale))
    return FeaturePool(kept, provider, tuple(provider.stale))
