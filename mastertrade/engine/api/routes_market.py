"""``GET /v1/candles``: the recent stored candles of a symbol; ``GET /v1/indicators``: the engine's
indicator lines over them (``signals.lines``), what the dashboard's chart overlays."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mastertrade.engine.api.deps import Ctx
from mastertrade.engine.api.schemas import Candle, CandlesResponse, IndicatorLine, IndicatorsResponse
from mastertrade.engine.market.store import SIM_EXCHANGE, SeriesKey
from mastertrade.engine.market.timeframes import timeframe_ms
from mastertrade.errors import NotFound
from mastertrade.utc import from_ms

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
        simulated=ctx.venue.simulated if key.exchange == ctx.venue.id else key.exchange == SIM_EXCHANGE,
        candles=[
            Candle(
                ts=int(row[0]),
                time=from_ms(row[0]),
                open=row[1],
                high=row[2],
                low=row[3],
                close=row[4],
                volume=row[5],
            )
            for row in rows
        ],
    )


@router.get(
    "/v1/indicators",
    response_model=IndicatorsResponse,
    summary="The engine's indicator lines over a symbol's recent closed candles (what charts overlay)",
)
async def indicators(
    ctx: Ctx,
    symbol: Annotated[str, Query(min_length=1, description="e.g. BTC/USDT")],
    line: Annotated[
        list[str],
        Query(min_length=1, description="a line spec, repeated: sma(length=20), bbands(length=20).upper"),
    ],
    timeframe: Annotated[str | None, Query(description="default: [market] timeframe")] = None,
    exchange: Annotated[str | None, Query(description="default: the daemon's venue")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
) -> IndicatorsResponse:
    import asyncio

    import pandas as pd

    from mastertrade.engine.market.fold import fold
    from mastertrade.engine.market.store import frame_from_matrix
    from mastertrade.engine.signals.lines import INDICATOR_WARMUP, indicator_lines, parse_line

    for spec in line:
        parse_line(spec)  # a malformed spec is a 400 before anything is read
    frame = timeframe or ctx.settings.market.timeframe
    step = timeframe_ms(frame)
    key = SeriesKey(exchange or ctx.venue.id, symbol, frame)
    bars = limit + INDICATOR_WARMUP
    info = await ctx.candles.info(key)
    if info.last is not None:
        candles = frame_from_matrix(await ctx.candles.read_matrix(key, start=info.last - (bars - 1) * step))
    else:
        # Not stored at this timeframe: the base timeframe's candles folded, as the dashboard folds them.
        base = SeriesKey(key.exchange, symbol, ctx.settings.market.timeframe)
        base_step = timeframe_ms(base.timeframe)
        base_info = await ctx.candles.info(base)
        if base_info.last is None or step <= base_step or step % base_step:
            raise NotFound(f"no candles stored for {key}")
        matrix = await ctx.candles.read_matrix(
            base, start=base_info.last - (bars * (step // base_step)) * base_step
        )
        candles = fold(frame_from_matrix(matrix), step)
    candles = candles.iloc[-bars:]
    values = await asyncio.to_thread(indicator_lines, candles, line)
    stamps = pd.DatetimeIndex(candles.index).as_unit("ms").asi8
    return IndicatorsResponse(
        exchange=key.exchange,
        symbol=symbol,
        timeframe=frame,
        simulated=ctx.venue.simulated if key.exchange == ctx.venue.id else key.exchange == SIM_EXCHANGE,
        ts=[int(ts) for ts in stamps[-limit:].tolist()],
        lines=[
            IndicatorLine(spec=spec, values=items[-limit:]) for spec, items in zip(line, values, strict=True)
        ],
    )
