"""``GET /v1/features`` and ``/v1/features/{name}``: the stored alternative data (sentiment, fear & greed,
on-chain, whales, macro, plugins' series), listed, and read page by page over a time range."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from mastertrade.engine.api.deps import Ctx
from mastertrade.engine.api.routes_market import SINCE, UNTIL, time_range
from mastertrade.engine.api.schemas import FeatureListing, FeaturePointInfo, FeatureSeriesInfo
from mastertrade.engine.market.timeframes import to_iso
from mastertrade.errors import NotFound, UserInputError
from mastertrade.utc import from_ms

router = APIRouter(tags=["market"])


def _time(ms: int) -> datetime:
    return from_ms(ms)


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
        for item in await FeatureStore(ctx.db).list_features(source)
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
    rows = await store.page(source, name, symbol, start=start, end=end, limit=limit)
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
