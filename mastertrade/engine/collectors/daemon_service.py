"""The collectors as a daemon service: ``CollectorsService`` runs under the supervisor.

It builds a ``CollectorService`` from ``[collectors]``, publishes every ``SourceStateChanged`` on the
bus (the ``data_source`` alert rule turns a degraded source into an alert), does its storing inside
``ctx.work`` so a stopping daemon lets a poll finish, and provides the running service to API routes
and ``mt status`` (``ctx.find(CollectorService)``; its ``health()`` lists every source).

On the simulated market (``[market] venue = "sim"``) it runs only the simulated source, which derives
features from the simulated candles: the demo and the tests stay offline and quiet.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import httpx

from mastertrade.engine.collectors.events import SourceStateChanged, WhaleSpotted
from mastertrade.engine.collectors.service import CollectorService
from mastertrade.engine.collectors.sim_collector import SimFeatureCollector
from mastertrade.engine.services.base import ServiceStopping

if TYPE_CHECKING:
    from mastertrade.engine.api.schemas_collectors import SourceInfo
    from mastertrade.engine.services.base import EngineContext

log = logging.getLogger("mastertrade.collectors")


class CollectorsService:
    """Supervised service running the alternative-data collectors."""

    name = "collectors"

    def __init__(self, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.transport = transport

    def build(self, ctx: EngineContext) -> CollectorService:
        settings = ctx.settings
        collectors = None
        if ctx.venue.simulated:
            collectors = [
                SimFeatureCollector(
                    settings.collectors,
                    ctx.candles,
                    exchange=ctx.venue.id,
                    symbols=list(settings.market.symbols),
                    timeframe=settings.market.timeframe,
                    seed=settings.market.seed,
                )
            ]

        def publish(event: SourceStateChanged | WhaleSpotted) -> None:
            ctx.bus.publish(event)

        return CollectorService(
            ctx.db,
            settings.collectors,
            collectors=collectors,
            transport=self.transport,
            on_event=publish,
            work=ctx.work,
        )

    async def run(self, ctx: EngineContext) -> None:
        if not ctx.settings.collectors.enabled:
            log.info("collectors are switched off ([collectors] enabled = false)")
            return
        service = ctx.provide(self.build(ctx))
        try:
            await service.run()
        except* ServiceStopping:
            log.info("collectors stopped with the daemon")


def source_infos(ctx: EngineContext) -> list[SourceInfo]:
    """The health of every source of the running collectors, for ``GET /v1/status`` (empty when the
    collectors do not run)."""
    from datetime import UTC, datetime

    from mastertrade.engine.api.schemas_collectors import SourceInfo

    service = ctx.find(CollectorService)
    if service is None:
        return []

    def when(ms: int | None) -> datetime | None:
        return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)

    return [
        SourceInfo(
            source=health.source,
            state=str(health.state),
            reason=health.reason,
            since=when(health.since),
            last_success=when(health.last_success),
            next_poll=when(health.next_poll),
            failures=health.failures,
            interval_s=health.interval_s,
            needs_key=health.needs_key,
            key_configured=health.key_configured,
            last_values=[dict(item) for item in health.last_values],
        )
        for health in service.health()
    ]
