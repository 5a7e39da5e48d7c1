"""``GET /v1/candles``: stored candles of any series, the newest ones or a time range page by page;
``GET /v1/indicators``: the engine's indicator lines over recent candles (``signals.lines``), what the
dashboard's chart overlays. On a replay both end at its market time, never at the newest stored bar (the
end of the history it has yet to play)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, cast

from fastapi import APIRouter, Query

from mastertrade.engine.api.deps import Ctx
from mastertrade.engine.api.openapi_errors import raises
from mastertrade.engine.api.schemas import (
    Candle,
    CandlesResponse,
    IndicatorLine,
    IndicatorsResponse,
)
from mastertrade.engine.market.store import SeriesKey
from mastertrade.engine.market.timeframes import check_timeframe, parse_when, timeframe_ms, to_iso
from mastertrade.errors import NotFound, UserInputError
from mastertrade.utc import from_ms

if TYPE_CHECKING:
    from mastertrade.engine.kernel.context import EngineContext

router = APIRouter(tags=["market"])

SINCE = Query(description="first bar (ISO-8601 UTC or epoch ms); pages forward from here, oldest first")
UNTIL = Query(description="bars opening before this (ISO-8601 UTC or epoch ms); default: the newest")


LAST_MS = 253_402_300_799_999


def played_before(ctx: EngineContext, timeframe: str) -> int | None:
    """On a replay, the bound on open times (exclusive) of the ``timeframe`` bars closed by its market
    time: its store holds the bars it has yet to play, which no chart may show (``market.as_of``)."""
    from mastertrade.engine.market.as_of import opened_before, research_until

    until = research_until(ctx.venue, ctx.market_time)
    return None if until is None else opened_before(until, timeframe)


"""9999-12-31T23:59:59.999Z, the last moment a date can name: a larger epoch-ms value is refused by name
(the database cannot hold it, and no ISO date reaches it)."""


def _when(text: str, what: str) -> int:
    value = parse_when(text, what=what)
    if not 0 <= value <= LAST_MS:
        raise UserInputError(
            f"invalid {what} {text!r}: epoch milliseconds are at most {LAST_MS} (9999-12-31)"
        )
    return value


def time_range(since: str | None, until: str | None) -> tuple[int | None, int | None]:
    """The ``since``/``until`` query values in epoch ms, checked (400 naming the bad value)."""
    start = _when(since, "since") if since is not None else None
    end = _when(until, "until") if until is not None else None
    if start is not None and end is not None and end <= start:
        raise UserInputError(f"invalid until {until!r}: it must be after since {since!r}")
    return start, end


@router.get(
    "/v1/candles",
    response_model=CandlesResponse,
    responses=raises(404),
    summary="Stored closed candles of a series: the newest `limit`, or from `since` page by page",
)
async def candles(
    ctx: Ctx,
    symbol: Annotated[str, Query(min_length=1, description="e.g. BTC/USDT")],
    timeframe: Annotated[
        str | None, Query(description="a number and a unit m/h/d/w (1m, 4h, 1d); default: [market] timeframe")
    ] = None,
    exchange: Annotated[str | None, Query(description="default: the daemon's venue")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
    since: Annotated[str | None, SINCE] = None,
    until: Annotated[str | None, UNTIL] = None,
) -> CandlesResponse:
    frame = check_timeframe(timeframe) if timeframe else ctx.settings.market.timeframe
    step = timeframe_ms(frame)
    key = SeriesKey(exchange or ctx.venue.id, symbol, frame)
    start, end = time_range(since, until)
    played = played_before(ctx, frame)
    info = await ctx.candles.info(key, before=played)
    if info.last is None:
        key = await ctx.candles.stored_spelling(key)
        info = await ctx.candles.info(key, before=played)
    if info.last is None:
        raise NotFound(f"no candles stored for {key}")
    following: str | None = None
    if start is None:
        last = info.last if end is None else end - step if played is None else min(end - step, info.last)
        matrix = await ctx.candles.read_matrix(key, start=last - (limit - 1) * step, end=last + 1)
        rows = cast(list[Any], matrix[-limit:].tolist())
    else:
        if played is not None:
            end = played if end is None else min(end, played)
        # One window of `limit` bars is enough unless the series has gaps; then read on to the end.
        window_end = start + (limit + 1) * step if end is None else min(end, start + (limit + 1) * step)
        rows = cast(list[Any], (await ctx.candles.read_matrix(key, start=start, end=window_end)).tolist())
        if len(rows) <= limit and (end is None or window_end < end):
            rest = cast(list[Any], (await ctx.candles.read_matrix(key, start=window_end, end=end)).tolist())
            rows += rest[: limit + 1 - len(rows)]
        if len(rows) > limit:
            following = to_iso(int(rows[limit][0]))
            rows = rows[:limit]
    return CandlesResponse(
        exchange=key.exchange,
        symbol=key.symbol,
        timeframe=frame,
        simulated=ctx.venue.simulated if key.exchange == ctx.venue.id else key.simulated,
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
        next=following,
    )


@router.get(
    "/v1/indicators",
    response_model=IndicatorsResponse,
    responses=raises(404),
    summary="The engine's indicator lines over a symbol's recent closed candles (what charts overlay)",
)
async def indicators(
    ctx: Ctx,
    symbol: Annotated[str, Query(min_length=1, description="e.g. BTC/USDT")],
    line: Annotated[
        list[str],
        Query(min_length=1, description="a line spec, repeated: sma(length=20), bbands(length=20).upper"),
    ],
    timeframe: Annotated[
        str | None, Query(description="a number and a unit m/h/d/w (1m, 4h, 1d); default: [market] timeframe")
    ] = None,
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
    frame = check_timeframe(timeframe) if timeframe else ctx.settings.market.timeframe
    step = timeframe_ms(frame)
    key = SeriesKey(exchange or ctx.venue.id, symbol, frame)
    bars = limit + INDICATOR_WARMUP
    played = played_before(ctx, frame)
    info = await ctx.candles.info(key, before=played)
    if info.last is None:
        key = await ctx.candles.stored_spelling(key)
        info = await ctx.candles.info(key, before=played)
    if info.last is not None:
        candles = frame_from_matrix(
            await ctx.candles.read_matrix(key, start=info.last - (bars - 1) * step, end=played)
        )
    else:
        # Not stored at this timeframe: the base timeframe's candles folded, as the dashboard folds them.
        base = await ctx.candles.stored_spelling(
            SeriesKey(key.exchange, key.symbol, ctx.settings.market.timeframe)
        )
        base_step = timeframe_ms(base.timeframe)
        base_info = await ctx.candles.info(base, before=played)
        if base_info.last is None or step <= base_step or step % base_step:
            raise NotFound(f"no candles stored for {key}")
        matrix = await ctx.candles.read_matrix(
            base, start=base_info.last - (bars * (step // base_step)) * base_step, end=played
        )
        candles = fold(frame_from_matrix(matrix), step)
    candles = candles.iloc[-bars:]
    values = await asyncio.to_thread(indicator_lines, candles, line)
    stamps = pd.DatetimeIndex(candles.index).as_unit("ms").asi8
    return IndicatorsResponse(
        exchange=key.exchange,
        symbol=key.symbol,
        timeframe=frame,
        simulated=ctx.venue.simulated if key.exchange == ctx.venue.id else key.simulated,
        ts=[int(ts) for ts in stamps[-limit:].tolist()],
        lines=[
            IndicatorLine(spec=spec, values=items[-limit:]) for spec, items in zip(line, values, strict=True)
        ],
    )
