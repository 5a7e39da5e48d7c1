"""``GET /v1/status``: the daemon at a glance (what ``mt status`` and the TUI's header show)."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from fastapi import APIRouter

from mastertrade.engine.api.deps import Ctx
from mastertrade.engine.api.schemas import StatusReport
from mastertrade.engine.api.schemas_collectors import SourceInfo
from mastertrade.engine.kernel.context import EngineContext
from mastertrade.engine.market.price_tick import price_tick
from mastertrade.engine.market.venue import ReportsFeedTrouble
from mastertrade.engine.scheduler.service import SchedulerService
from mastertrade.locations import locations
from mastertrade.utc import from_ms

router = APIRouter(tags=["daemon"])


def source_infos(ctx: EngineContext) -> list[SourceInfo]:
    """The health of every source of the running collectors, for ``GET /v1/status`` (empty when the
    collectors do not run)."""
    from mastertrade.engine.collectors.service import CollectorService

    service = ctx.find(CollectorService)
    if service is None:
        return []

    def when(ms: int | None) -> datetime | None:
        return None if ms is None else from_ms(ms)

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


async def build_status(ctx: EngineContext) -> StatusReport:
    """The report, assembled from what the services keep in memory (no database round trip once the
    scheduler knows its last runs) as plain data, and validated once: building a model per symbol,
    service and job cost more than the rest of the request."""
    state = ctx.state
    market = ctx.settings.market
    symbols: list[dict[str, Any]] = []
    trouble = ctx.venue.feed_trouble if isinstance(ctx.venue, ReportsFeedTrouble) else {}
    exchanges = quoting_exchanges(ctx)
    for symbol in dict.fromkeys([*market.symbols, *state.last_candles]):
        failing = trouble.get(symbol)
        feed = {"feed_error": failing[1], "feed_error_since": from_ms(failing[0])} if failing else {}
        tick = next((t for e in exchanges if (t := price_tick(e, symbol)) is not None), None)
        if tick is not None:
            feed["tick"] = tick
        last = state.last_candles.get(symbol)
        if last is None:
            symbols.append({"symbol": symbol, "timeframe": market.timeframe, **feed})
            continue
        closed = last.closed_ts
        symbols.append(
            {
                "symbol": symbol,
                "timeframe": last.timeframe,
                "price": last.price,
                "price_at": last.price_at,
                "last_closed_ts": closed,
                "last_closed": from_ms(closed) if closed is not None else None,
                **feed,
            }
        )
    scheduler = ctx.find(SchedulerService)
    return StatusReport.model_validate(
        {
            "version": state.version,
            "pid": state.pid,
            "started_at": state.started_at,
            "uptime_s": round(state.uptime_s, 3),
            "mode": ctx.settings.mode,
            "stopping": ctx.stopping.is_set(),
            "recovered": state.recovered,
            "venue": {
                "id": ctx.venue.id,
                "kind": market.venue,
                "simulated": ctx.venue.simulated,
                "ended": getattr(ctx.venue, "ended", None),  # a replay that ran out of stored bars
            },
            "timeframe": market.timeframe,
            "services": [vars(status) for status in state.services.values()],
            "symbols": symbols,
            "events": ctx.bus.info(),
            "work": dict(state.inflight),
            "jobs": await scheduler.jobs_info() if scheduler else [],
            "socket": socket_path(),
            "tcp_port": ctx.settings.api.tcp_port,
            "sources": source_infos(ctx),
            "config_digest": ctx.settings.files_digest,
        }
    )


def quoting_exchanges(ctx: EngineContext) -> list[Any]:
    """The ccxt clients whose loaded markets say how prices are quoted: the live broker's, then the
    market feed's (none on the simulated market)."""
    from mastertrade.engine.execution.account import Account

    found = []
    account = ctx.find(Account)
    if account is not None and (exchange := getattr(account.broker, "exchange", None)) is not None:
        found.append(exchange)
    if (exchange := getattr(ctx.venue, "exchange", None)) is not None:
        found.append(exchange)
    return found


def socket_path() -> str:
    """The socket's path, worked out once per ``MT_HOME`` (resolving it costs file-system calls)."""
    home = os.environ.get("MT_HOME", "")
    path = _SOCKETS.get(home)
    if path is None:
        path = _SOCKETS[home] = str(locations().socket_file)
    return path


_SOCKETS: dict[str, str] = {}


@router.get(
    "/v1/status", response_model=StatusReport, summary="Services, venue, last candles, event lag, uptime"
)
async def status(ctx: Ctx) -> StatusReport:
    return await build_status(ctx)
