"""``GET /v1/candles``: the recent stored candles of a symbol."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from mastertrade.engine.api.deps import Ctx
from mastertrade.engine.api.schemas import Candle, CandlesResponse
from mastertrade.engine.market.store import SeriesKey
from mastertrade.engine.market.timeframes import timeframe_ms
from mastertrade.errors import NotFound

router = APIRouter(tags=["market"])


@router.get("/v1/candles", response_model=CandlesResponse, summary="Recent closed candles of a symbol")
async def candles(
    ctx: Ctx,
    symbol: Annotated[str, Query(min_length=1, description="e.g. BTC/USDT")],
    timeframe: Annotated[str | None, Query(description="default: [market] timeframe")] = None,
    exchange: Annotated[str | None, Query(description="default: the daemon's venue")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
) -> CandlesResponse:
    frame = timeframe or ctx.settings.market.timeframe
    step = timeframe_ms(frame)
    key = SeriesKey(exchange or ctx.venue.id, symbol, frame)
    info = await ctx.candles.info(key)
    if info.last is None:
        raise NotFound(f"no candles stored for {key}")
    matrix = await ctx.candles.read_matrix(key, start=info.last - (limit - 1) * step)
    rows = matrix[-limit:].tolist()
    return CandlesResponse(
        exchange=key.exchange,
        symbol=symbol,
        timeframe=frame,
        simulated=ctx.venue.simulated if key.exchange == ctx.venue.id else key.simulated,
        candles=[
            Candle(
                ts=int(row[0]),
                time=datetime.fromtimestamp(row[0] / 1000, tz=UTC),
                open=row[1],
                high=row[2],
                low=row[3],
                close=row[4],
                volume=row[5],
            )
            for row in rows
        ],
    )
