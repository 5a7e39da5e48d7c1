"""``GET /v1/status``: the daemon at a glance (what ``mt status`` and the TUI's header show)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from mastertrade.engine.api.deps import Ctx
from mastertrade.engine.api.schemas import (
    EventsInfo,
    JobInfo,
    ServiceInfo,
    StatusReport,
    SymbolInfo,
    VenueInfo,
)
from mastertrade.engine.collectors.daemon_service import source_infos
from mastertrade.engine.scheduler.service import SchedulerService
from mastertrade.engine.services.base import EngineContext
from mastertrade.locations import locations

router = APIRouter(tags=["daemon"])


async def build_status(ctx: EngineContext) -> StatusReport:
    state = ctx.state
    market = ctx.settings.market
    symbols = []
    for symbol in dict.fromkeys([*market.symbols, *state.last_candles]):
        last = state.last_candles.get(symbol)
        closed = last.closed_ts if last else None
        symbols.append(
            SymbolInfo(
                symbol=symbol,
                timeframe=last.timeframe if last else market.timeframe,
                price=last.price if last else None,
                price_at=last.price_at if last else None,
                last_closed_ts=closed,
                last_closed=datetime.fromtimestamp(closed / 1000, tz=UTC) if closed is not None else None,
            )
        )
    scheduler = ctx.find(SchedulerService)
    jobs = [JobInfo.model_validate(job) for job in await scheduler.jobs_info()] if scheduler else []
    return StatusReport(
        version=state.version,
        pid=state.pid,
        started_at=state.started_at,
        uptime_s=round((datetime.now(UTC) - state.started_at).total_seconds(), 3),
        mode=ctx.settings.mode,
        stopping=ctx.stopping.is_set(),
        recovered=state.recovered,
        venue=VenueInfo(id=ctx.venue.id, kind=market.venue, simulated=ctx.venue.simulated),
        timeframe=market.timeframe,
        services=[
            ServiceInfo.model_validate(status, from_attributes=True) for status in state.services.values()
        ],
        symbols=symbols,
        events=EventsInfo.model_validate(ctx.bus.info()),
        work=dict(state.inflight),
        jobs=jobs,
        socket=str(locations().socket_file),
        tcp_port=ctx.settings.api.tcp_port,
        sources=source_infos(ctx),
    )


@router.get(
    "/v1/status", response_model=StatusReport, summary="Services, venue, last candles, event lag, uptime"
)
async def status(ctx: Ctx) -> StatusReport:
    return await build_status(ctx)
