"""The collectors as a daemon service: ``CollectorsService`` runs under the supervisor.

It builds a ``CollectorService`` from ``[collectors]``, publishes every ``SourceStateChanged`` on the
bus (the ``data_source`` alert rule turns a degraded source into an alert), does its storing inside
``ctx.work`` so a stopping daemon lets a poll finish, and provides the running service to API routes
and ``mt status`` (``ctx.find(CollectorService)``; its ``health()`` lists every source).

On the simulated market (``[market] venue = "sim"``) it runs only the simulated source, which derives
features from the simulated candles: the demo and the tests stay offline and quiet. There the sources
are polled on market time (``ctx.market_clock``), so they keep pace with the accelerated market. On a
replay (simulated too) they derive from the bars it has played only (``SimFeatureCollector.played_only``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import httpx

from mastertrade.engine.collectors.events import SourceStateChanged, WhaleSpotted
from mastertrade.engine.collectors.service import CollectorService
from mastertrade.engine.collectors.sim_collector import SimFeatureCollector
from mastertrade.engine.kernel.context import ServiceStopping

if TYPE_CHECKING:
    from mastertrade.engine.kernel.context import EngineContext

log = logging.getLogger("mastertrade.collectors")


class CollectorsService:
    """Supervised service running the alternative-data collectors."""

    name = "collectors"

    def __init__(self, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.transport = transport

    def build(self, ctx: EngineContext) -> CollectorService:
        settings = ctx.settings
        collectors = None
        timing: dict[str, Any] = {}
        if ctx.venue.simulated:
            from mastertrade.engine.market.as_of import research_until

            market_time = ctx.market_time
            timing = {
                "clock": lambda: int(market_time.now().timestamp() * 1000),
                "sleep": market_time.sleep,
            }
            collectors = [
                SimFeatureCollector(
                    settings.collectors,
                    ctx.candles,
                    exchange=ctx.venue.id,
                    symbols=list(settings.market.symbols),
                    timeframe=settings.market.timeframe,
                    seed=settings.market.seed,
                    played_only=research_until(ctx.venue, market_time) is not None,
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
            **timing,
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
