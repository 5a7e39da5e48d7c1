"""What ``mt data sources`` shows: every source with its health and stored series, without the daemon.

Known sources are the collectors of this installation (built-ins and plugins); their persisted health
is merged with what the config says now (a source switched off or without its key is disabled). Sources
that stored values but have no collector here are listed too: ``sim`` (simulated features, written by
``mt data sim`` or by the daemon on the simulated market) as ok, anything else (an uninstalled plugin)
as disabled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import httpx

from mastertrade.engine.collectors.health import SourceHealth, SourceState
from mastertrade.engine.collectors.service import NOT_COLLECTED, CollectorService, merge_health
from mastertrade.engine.collectors.sim import SIM_SOURCE
from mastertrade.engine.collectors.store import FeatureInfo, FeatureStore
from mastertrade.engine.market.timeframes import now_ms
from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    from mastertrade.config import CollectorsSettings
    from mastertrade.db.database import Database

SIM_DESCRIPTION = "Simulated features that follow the simulated market (mt data sim, the demo)"


def _orphan_health(source: str, series: list[FeatureInfo]) -> SourceHealth:
    values = tuple(
        {"name": info.name, "symbol": info.symbol, "value": info.last_value, "ts": info.last}
        for info in sorted(series, key=lambda info: (info.symbol, info.name))[:12]
    )
    newest = max((info.last for info in series), default=None)
    if source == SIM_SOURCE:
        return SourceHealth(
            source, SourceState.OK, description=SIM_DESCRIPTION, last_success=newest, last_values=values
        )
    if source in ("ml", "ml_sim"):
        described = "Forecast series of `mt ml train` and the daemon's forecasts service"
        return SourceHealth(
            source, SourceState.OK, description=described, last_success=newest, last_values=values
        )
    return SourceHealth(
        source,
        SourceState.DISABLED,
        reason="no collector installed for this source (its stored values remain)",
        last_success=newest,
        last_values=values,
    )


async def source_report(
    db: Database,
    settings: CollectorsSettings,
    *,
    names: Sequence[str] | None = None,
    refresh: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
    now: int | None = None,
    venue: str = "ccxt",
) -> list[dict[str, Any]]:
    """Every source (or the named ones) as plain data: health, key status (never the key), series.

    With ``refresh`` the enabled sources among them are polled first; each item's ``refreshed`` says
    whether this call polled it, so a caller can tell a poll that failed now from an old failure.
    ``venue`` is ``[market] venue``: on a simulated one ("sim", "replay") the daemon polls no real
    source, so one never collected is not told to start the daemon."""
    store = FeatureStore(db)
    service = CollectorService(db, settings, transport=transport)
    features = await store.list_features()
    persisted = {name: health for name, (health, _) in (await store.load_health()).items()}
    collector_names = [collector.name for collector in service.collectors]
    others = sorted(({info.source for info in features} | set(persisted)) - set(collector_names))
    known = collector_names + others
    if names:
        unknown = [name for name in names if name not in known]
        if unknown:
            raise UserInputError(f"unknown source {unknown[0]!r} (known: {', '.join(known)})")
    moment = now if now is not None else now_ms()
    refreshed: set[str] = set()
    if refresh:
        refreshed = {c.name for c in service.enabled() if not names or c.name in names}
        try:
            await service.poll_all(names)
        finally:
            await service.close()
        healths = {health.source: health for health in service.health()}
        features = await store.list_features()  # with what the refresh just stored
    else:
        healths = {
            collector.name: merge_health(collector, persisted.get(collector.name)).effective(moment)
            for collector in service.collectors
        }
    by_source: dict[str, list[FeatureInfo]] = {}
    for info in features:
        by_source.setdefault(info.source, []).append(info)
    for source in others:
        health = persisted.get(source)
        if health is None:
            healths[source] = _orphan_health(source, by_source.get(source, []))
        else:
            described = SIM_DESCRIPTION if source == SIM_SOURCE else ""
            healths[source] = replace(health, description=health.description or described).effective(moment)
    if venue != "ccxt":
        for name in collector_names:
            if healths[name].reason == NOT_COLLECTED:
                healths[name] = replace(healths[name], reason=_not_collected_on(venue))
    from mastertrade.engine.collectors.news import SentimentCollector
    from mastertrade.engine.collectors.sentiment import scoring

    how = scoring(settings)
    scored = {c.name: how for c in service.collectors if isinstance(c, SentimentCollector)}
    report = []
    for source in known:
        if names and source not in names:
            continue
        data = healths[source].as_dict()
        data["refreshed"] = source in refreshed
        data["series"] = [info.as_dict() for info in by_source.get(source, [])]
        if source in scored:
            data["scoring"] = scored[source]
        report.append(data)
    return report


def _not_collected_on(venue: str) -> str:
    """Why a source has no value on a simulated market: the daemon there derives only the ``sim``
    source from the simulated candles (``daemon_service``), however long it runs."""
    return (
        f'never collected: with [market] venue = "{venue}" the daemon collects only the simulated'
        " features (source sim); `mt data sources --refresh` polls it once"
    )
