"""Stored features for strategies: the ``FeatureProvider`` a backtest, the generator or paper trading
hands to ``IndicatorCache(frame, features=...)``.

Evaluation is synchronous and the store is async, so the provider is loaded first, for the features a
set of genomes needs (``required_features``), then answers ``(name, params, frame)`` from memory by
aligning each series to the frame's bars with :mod:`align` (a value counts only from the first bar that
opens after its publication; it is dropped once older than the feature's maximum age,
``signals/feature_catalog.py``).

Which source a term reads: on simulated candles (exchange ``sim``) always source ``sim``; otherwise the
term's ``source`` when it names one, else the first source that stores the series, in the order of the
built-in collectors (news before reddit, mempool before blockchain ...), then plugins alphabetically.

A forecast series whose candles changed after the training that made it (re-simulated, imported over,
deleted: :mod:`.forecast_candles`) is refused by default (``CandlesChanged``, exit 2 on the command line);
a caller may instead leave it out with a warning (it reads as missing, :attr:`StoredFeatures.stale` says
why) or read it unchecked (the paper trader, whose books traded on those values).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mastertrade.engine.collectors.align import align_series
from mastertrade.engine.collectors.forecast_candles import READ, REFUSE, SKIP, CandlesChanged, Stale
from mastertrade.engine.collectors.sim import SIM_SOURCE
from mastertrade.engine.collectors.store import FeatureSeries, FeatureStore
from mastertrade.engine.market.timeframes import timeframe_ms
from mastertrade.engine.signals import feature_catalog as catalog
from mastertrade.engine.signals.features import feature_spec
from mastertrade.engine.signals.genome import required_features
from mastertrade.engine.signals.specs import SINGLE, Params, ParamValue

if TYPE_CHECKING:
    from mastertrade.db.database import Database

log = logging.getLogger(__name__)

SeriesRef = tuple[str, str, str]
"""(feature name, symbol, requested source or "auto")."""


def series_ref(name: str, params: Mapping[str, ParamValue]) -> SeriesRef:
    """Where a feature term's values live, before the source is resolved."""
    symbol = str(params.get("symbol", "")).upper()
    source = str(params.get("source", catalog.AUTO))
    return (name, symbol, source)


def source_order() -> list[str]:
    from mastertrade.engine.collectors.registry import BUILTIN

    return [cls.name for cls in BUILTIN]


def pick_source(available: Iterable[str], requested: str, *, simulated: bool) -> str | None:
    """The source to read (see the module docstring), or None when no source has the series."""
    have = set(available)
    if simulated:
        return SIM_SOURCE if SIM_SOURCE in have else None
    have.discard(SIM_SOURCE)
    if requested != catalog.AUTO:
        return requested if requested in have else None
    order = source_order()
    ranked = sorted(have, key=lambda name: (order.index(name) if name in order else len(order), name))
    return ranked[0] if ranked else None


def _forecast_ref(
    name: str, params: Mapping[str, ParamValue], market: str | None, timeframe: str, exchange: str | None
) -> SeriesRef:
    # A forecast (engine/ml) is keyed by model, horizon, timeframe, exchange and market, not by base asset.
    from mastertrade.engine.signals.forecast_term import forecast_ref

    found = forecast_ref(params, market=market, timeframe=timeframe, exchange=exchange)
    return (found[0], found[1], "") if found is not None else (name, "", "")


async def _stale_forecast(
    db: Database,
    params: Mapping[str, ParamValue],
    symbol: str,
    timeframe: str,
    exchange: str,
    until: int | None,
) -> str | None:
    """Why the forecast series a term reads must not be read beside its candles (None: it may); ``until``:
    a replay's market time, the bars after it unread (``forecast_candles.stale``)."""
    from mastertrade.engine.collectors.forecast_candles import stale
    from mastertrade.engine.market.store import SeriesKey

    model = str(params.get("model", "lstm_transformer"))
    key = SeriesKey(exchange, symbol, timeframe)
    return await stale(db, model, key, int(params.get("horizon", 1)), until=until)


class StoredFeatures:
    """A feature provider over series loaded from the store (build it with :meth:`load`)."""

    def __init__(
        self,
        series: Mapping[SeriesRef, FeatureSeries | None],
        bar_ms: int,
        *,
        market: str | None = None,
        timeframe: str = "",
        exchange: str | None = None,
    ) -> None:
        self.series = dict(series)
        self.bar_ms = bar_ms
        self.market = market
        self.timeframe = timeframe
        self.exchange = exchange
        """The exchange of the candles: forecast terms read the forecasts of that exchange's series."""
        self.stale: list[str] = []
        """Why each forecast series left out (``stale=SKIP``) was: its candles changed since its training."""

    def missing(self) -> list[str]:
        """The series the strategies read that have no stored value at all, in words ("forecast:lightgbm:
        h2:1h@binance of BTC/USDT"): each reads as missing (NaN) on every bar, so a rule on it never fires."""
        return sorted(
            f"{ref[0]} of {ref[1]}" if ref[1] else str(ref[0])
            for ref, found in self.series.items()
            if found is None or len(found) == 0
        )

    def readable(self, name: str, params: Params) -> bool:
        """Whether a term's series was loaded with values (not missing, not left out)."""
        found = self.series.get(self._ref(name, dict(params)))
        return found is not None and len(found) > 0

    def _ref(self, name: str, params: Mapping[str, ParamValue]) -> SeriesRef:
        if name == "forecast":
            return _forecast_ref(name, params, self.market, self.timeframe, self.exchange)
        return series_ref(name, params)

    @classmethod
    async def load(
        cls,
        db: Database,
        features: Iterable[tuple[str, Params]],
        *,
        timeframe: str,
        simulated: bool,
        exchange: str | None,
        market: str | None = None,
        stale: Stale = REFUSE,
        until: int | None = None,
    ) -> StoredFeatures:
        """Load every series the (name, params) pairs need; missing ones will read as NaN. ``market``
        and ``exchange`` name the candles (forecast terms read the forecasts of that series). ``stale``:
        what to do with a forecast series whose candles changed since its training (module docstring),
        checked on the candles closed by ``until`` (a replay's market time, ``market.as_of``) only."""
        store = FeatureStore(db)
        provider = cls({}, timeframe_ms(timeframe), market=market, timeframe=timeframe, exchange=exchange)
        for name, params in features:
            ref = provider._ref(name, dict(params))
            if ref in provider.series:
                continue
            if name == "forecast":
                from mastertrade.engine.signals.forecast_term import source as forecast_source

                if ref[1] and exchange and stale != READ:
                    reason = await _stale_forecast(db, dict(params), ref[1], timeframe, exchange, until)
                    if reason is not None and stale == SKIP:
                        log.info("%s; left out", reason)  # the caller says it as its own warning
                        provider.stale.append(reason)
                        provider.series[ref] = None
                        continue
                    if reason is not None:
                        raise CandlesChanged(reason)
                provider.series[ref] = await store.read(forecast_source(simulated), ref[0], ref[1])
                continue
            source = pick_source(await store.sources_for(ref[0], ref[1]), ref[2], simulated=simulated)
            provider.series[ref] = None if source is None else await store.read(source, ref[0], ref[1])
        return provider

    @classmethod
    async def for_genomes(
        cls,
        db: Database,
        genomes: Iterable[Any],
        *,
        timeframe: str,
        simulated: bool,
        exchange: str | None,
        market: str | None = None,
        stale: Stale = REFUSE,
        until: int | None = None,
    ) -> StoredFeatures:
        """The provider for everything a set of genomes uses (on ``market``, else the genomes' symbol,
        of ``exchange``); ``stale`` and ``until`` as :meth:`load`."""
        wanted: dict[tuple[str, Params], None] = {}
        symbols: set[str] = set()
        for genome in genomes:
            wanted.update(dict.fromkeys(required_features(genome)))
            if getattr(genome, "symbol", None):
                symbols.add(genome.symbol)
        if market is None and len(symbols) == 1:
            market = symbols.pop()
        return await cls.load(
            db,
            wanted,
            timeframe=timeframe,
            simulated=simulated,
            exchange=exchange,
            market=market,
            stale=stale,
            until=until,
        )

    def __call__(self, name: str, params: Mapping[str, ParamValue], frame: pd.DataFrame) -> Mapping[str, Any]:
        spec = feature_spec(name)
        series = self.series.get(self._ref(name, params))
        if series is None or len(series) == 0:
            return {out.name: None for out in spec.outputs}
        index = frame.index
        if not isinstance(index, pd.DatetimeIndex):
            raise TypeError(f"feature {name}: the candles need a DatetimeIndex")
        bar_open = np.asarray(index.as_unit("ms").asi8, dtype=np.int64)
        return {SINGLE: align_series(series, bar_open, catalog.max_age_ms(name, self.bar_ms))}


async def features_for(
    db: Database,
    strategies: Iterable[Any],
    *,
    timeframe: str,
    simulated: bool,
    exchange: str | None,
    market: str | None = None,
    stale: Stale = REFUSE,
    until: int | None = None,
) -> StoredFeatures | None:
    """The provider for the feature terms of ``strategies`` (genomes, or strategies carrying a
    ``genome``; plugins have none), or None when none of them reads alternative data. ``market``: the
    candles' symbol (default: the one the strategies name); ``exchange``: the candles' exchange (whose
    forecasts a forecast term reads); ``stale``: what to do with forecasts whose candles changed since
    their training (``StoredFeatures.load``), checked on the candles closed by ``until`` (a replay's market
    time) only."""
    genomes = [getattr(item, "genome", item) for item in strategies]
    genomes = [genome for genome in genomes if genome is not None and hasattr(genome, "entry")]
    if not any(required_features(genome) for genome in genomes):
        return None
    return await StoredFeatures.for_genomes(
        db,
        genomes,
        timeframe=timeframe,
        simulated=simulated,
        exchange=exchange,
        market=market,
        stale=stale,
        until=until,
    )
