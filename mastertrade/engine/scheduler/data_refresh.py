"""The data_refresh job: fill each configured symbol's candle history up to the last closed bar, and
the holes inside its recent history.

The live feed stores every bar it sees close, but not the bars that closed while the daemon was down
or the feed was reconnecting. This job downloads them from the venue (``market.download``, which
resumes from the last stored candle and never stores a forming bar); a symbol with nothing stored gets
its last ``[scheduler] backfill_bars`` bars. A hole inside the stored series (an exchange outage, the
live feed's catch-up cap) is behind that resume point: each run finds the holes among the newest
``[scheduler] repair_window_bars`` bars (``quality.gaps_since``, reading only that window) and fetches
them as ``mt data check --repair`` does (``quality.repair_gaps``), so the work per run stays bounded.
A real outage of the exchange stays missing and is asked for again the next run. It needs a real
exchange: the simulated and replay venues have no gaps to fill.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mastertrade.engine.market.store import SeriesKey
from mastertrade.engine.market.timeframes import now_ms, timeframe_ms

if TYPE_CHECKING:
    from mastertrade.engine.kernel.context import EngineContext, JobRegistry, JobRun

DESCRIPTION = (
    "Download the candles missing since the last stored one, and the holes among the recent ones, "
    "for every configured symbol"
)


def register(jobs: JobRegistry) -> None:
    """The job ``data_refresh`` (its schedule is in ``[scheduler] jobs``)."""
    jobs.add("data_refresh", refresh_candles, DESCRIPTION, available=available, summarize=refresh_summary)


def available(ctx: EngineContext) -> str | None:
    if ctx.settings.market.venue != "ccxt":
        return f'the venue is "{ctx.settings.market.venue}": only an exchange (venue "ccxt") has gaps to fill'
    return None


async def refresh_candles(ctx: EngineContext, run: JobRun) -> dict[str, Any]:
    from mastertrade.engine.market import quality
    from mastertrade.engine.market.download import download

    market = ctx.settings.market
    scheduler = ctx.settings.scheduler
    page_limit = ctx.settings.exchange.page_limit
    step = timeframe_ms(market.timeframe)
    symbols: dict[str, Any] = {}
    for index, symbol in enumerate(market.symbols):
        run.progress(index, len(market.symbols), f"refreshing {symbol}")
        key = SeriesKey(ctx.venue.id, symbol, market.timeframe)
        last = await ctx.candles.last_ts(key)
        since = last if last is not None else now_ms() - scheduler.backfill_bars * step
        summary = await download(
            ctx.candles, ctx.venue, symbol, market.timeframe, since, page_limit=page_limit
        )
        result: dict[str, Any] = {
            "new": summary.new,
            "stored": summary.stored,
            "requests": summary.requests,
            "holes": None,
        }
        if scheduler.repair_window_bars:
            newest = await ctx.candles.last_ts(key)
            window = (newest if newest is not None else now_ms()) - (scheduler.repair_window_bars - 1) * step
            gaps = await quality.gaps_since(ctx.candles, key, window)
            if gaps:
                fixed = await quality.repair_gaps(ctx.candles, ctx.venue, key, gaps, page_limit=page_limit)
                repaired = fixed.as_dict()
                missing = sum(gap.bars for gap in gaps)
                result["new"] += repaired["new"]
                result["requests"] += repaired["requests"]
                result["holes"] = {
                    "missing": missing,
                    "filled": repaired["new"],
                    "still_missing": missing - repaired["new"],
                    "ranges": repaired["ranges"],
                }
        symbols[symbol] = result
    run.progress(len(market.symbols), len(market.symbols), "done")
    return {"symbols": symbols, "new": sum(item["new"] for item in symbols.values())}


def refresh_summary(result: Any) -> str | None:
    """The job's result in words: how many candles it stored for how many symbols, or that every symbol
    was already up to date, and the bars of holes the exchange still lacks."""
    if not isinstance(result, dict) or not isinstance(result.get("symbols"), dict):
        return None
    symbols = [item for item in result["symbols"].values() if isinstance(item, dict)]
    new = sum(item["new"] for item in symbols if isinstance(item.get("new"), int))
    missing = sum(
        item["holes"]["still_missing"]
        for item in symbols
        if isinstance(item.get("holes"), dict) and isinstance(item["holes"].get("still_missing"), int)
    )
    count = f"{len(symbols)} symbol{'s' if len(symbols) != 1 else ''}"
    if new:
        said = f"{new:,} new candle{'s' if new != 1 else ''} for {count}"
    else:
        said = f"no new candles for {count}" + ("" if missing else ", already up to date")
    return said + (f"; {missing:,} bars of holes still missing" if missing else "")
