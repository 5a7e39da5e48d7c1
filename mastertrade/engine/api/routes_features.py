"""``GET /v1/features`` and ``/v1/features/{name}``: the stored alternative data (sentiment, fear & greed,
on-chain, whales, macro, plugins' series), listed, and read page by page over a time range. On a replay
both show only the values published by its market time: its store may hold the history to come too
(simulated features derived from all its candles, a real series collected up to today), which no one
trading the replay may see (``market.as_of``)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Query

from mastertrade.engine.api.deps import Ctx
from mastertrade.engine.api.routes_market import SINCE, UNTIL, time_range
from mastertrade.engine.api.schemas import FeatureListing, FeaturePointInfo, FeatureSeriesInfo
from mastertrade.engine.market.timeframes import to_iso
from mastertrade.errors import NotFound, UserInputError
from mastertrade.utc import from_ms

if TYPE_CHECKING:
    from mastertrade.engine.kernel.context import EngineContext

router = APIRouter(tags=["market"])


def _time(ms: int) -> datetime:
    return from_ms(ms)


def published_before(ctx: EngineContext) -> int | None:
    """On a replay, the bound (exclusive) on the publication times of the values known by its market
    time; None elsewhere."""
    from mastertrade.engine.market.as_of import research_until

    until = research_until(ctx.venue, ctx.market_time)
    return None if until is None else until + 1


def _simulated(source: str) -> bool:
    from mastertrade.engine.collectors.sim import SIM_SOURCE

    return source == SIM_SOURCE


@router.get("/v1/features", response_model=list[FeatureListing], summary="Every stored feature series")
async def features(
    ctx: Ctx, source: Annotated[str | None, Query(description="only this source's series")] = None
) -> list[FeatureListing]:
    from mastertrade.engine.collectors.store import FeatureStore

    return [
        FeatureListing(
            source=item.source,
            name=item.name,
            symbol=item.symbol,
            rows=item.rows,
            first=_time(item.first),
            last=_time(item.last),
            last_value=item.last_value,
            simulated=_simulated(item.source),
        )
        for item in await FeatureStore(ctx.db).list_features(source, published_before=published_before(ctx))
    ]


@router.get(
    "/v1/features/{name}",
    response_model=FeatureSeriesInfo,
    summary="One stored feature series over a time range, oldest first, page by page",
)
async def feature(
    ctx: Ctx,
    name: str,
    symbol: Annotated[str, Query(description='a base asset ("BTC"); empty for market-wide series')] = "",
    source: Annotated[str | None, Query(description="needed when several sources store this series")] = None,
    since: Annotated[str | None, SINCE] = None,
    until: Annotated[str | None, UNTIL] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> FeatureSeriesInfo:
    from mastertrade.engine.collectors.store import FeatureStore

    store = FeatureStore(ctx.db)
    start, end = time_range(since, until)
    sources = await store.sources_for(name, symbol)
    what = f"{name!r}" + (f" for symbol {symbol!r}" if symbol else "")
    if source is None:
        if not sources:
            known = sorted({item.name for item in await store.list_features()})
            raise NotFound(f"no feature {what} stored (stored: {', '.join(known) or 'none'})")
        if len(sources) > 1:
            raise UserInputError(
                f"feature {what} comes from several sources: pick one with source= ({', '.join(sources)})"
            )
        source = sources[0]
    elif source not in sources:
        raise NotFound(
            f"no feature {what} stored from source {source!r} (sources: {', '.join(sources) or 'none'})"
        )
    rows = await store.page(
        source, name, symbol, start=start, end=end, limit=limit, published_before=published_before(ctx)
    )
    following = to_iso(rows[limit][0]) if len(rows) > limit else None
    return FeatureSeriesInfo(
        source=source,
        name=name,
        symbol=symbol,
        simulated=_simulated(source),
        points=[
            FeaturePointInfo(ts=ts, time=_time(ts), published_at=_time(published), value=value)
            for ts, published, value in rows[:limit]
        ],
        next=following,
    )
