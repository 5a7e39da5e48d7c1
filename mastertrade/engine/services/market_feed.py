"""The market feed service: streams the configured symbols from the venue into the store and the bus.

Every update becomes a ``PriceTick`` (coalesced per symbol for slow subscribers); a bar that closes is
stored first (one transaction, inside ``ctx.work`` so a stopping daemon lets it finish) and then
announced as ``CandleClosed``, so a subscriber that reads the store on that event finds the bar.
A venue error ends the stream and the service; the supervisor restarts it with backoff.

The stream starts after each symbol's newest stored bar (read from the store at the daemon's start,
then the one this service last stored; on a replay, the last bar it served, ``resume.py``): an exchange
first closes the bars that closed while the daemon was down or the service restarting, so they are
stored, in order, before the first new bar is announced.
The ``data_refresh`` job resumes from the newest stored bar and could not fill such a hole any more.

On a simulated venue the feed also moves market time (``ctx.market_clock``, a ``MarketTime``) to each
update's time: a forming tick's time inside its bar (its open when the venue does not say), a closed bar's
close. Schedules, collectors, cool-downs and goal
periods run on it, so they keep pace with the accelerated market. A restarted replay's market time starts
where the replay stands (``resume.py``, applied by the daemon before any service starts), not on the wall
clock.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from mastertrade.engine.events import CandleClosed, PriceTick
from mastertrade.engine.kernel.clock import MarketTime
from mastertrade.engine.kernel.context import LastCandle
from mastertrade.engine.market.resume import last_closed_bar
from mastertrade.engine.market.store import SeriesKey
from mastertrade.engine.market.timeframes import timeframe_ms

if TYPE_CHECKING:
    from mastertrade.engine.kernel.context import EngineContext

log = logging.getLogger(__name__)


class MarketFeed:
    name = "market-feed"

    async def run(self, ctx: EngineContext) -> None:
        market = ctx.settings.market
        venue = ctx.venue
        if not market.symbols:
            log.info("no symbols configured ([market] symbols): the market feed idles")
            await asyncio.Future()
        for symbol in market.symbols:
            if symbol not in ctx.state.last_candles:
                closed = await last_closed_bar(venue, ctx.candles, symbol, market.timeframe)
                ctx.state.last_candles[symbol] = LastCandle(symbol, market.timeframe, closed_ts=closed)
        log.info("streaming %s %s from %s", ", ".join(market.symbols), market.timeframe, venue.id)
        after = {
            symbol: last.closed_ts
            for symbol in market.symbols
            if (last := ctx.state.last_candles.get(symbol)) is not None
            and last.timeframe == market.timeframe
            and last.closed_ts is not None
        }
        updates = venue.stream(market.symbols, market.timeframe, after=after)
        market_time = ctx.market_time if isinstance(ctx.market_time, MarketTime) else None
        try:
            async for update in updates:
                ctx.bus.publish(
                    PriceTick(
                        venue=venue.id,
                        symbol=update.symbol,
                        timeframe=update.timeframe,
                        candle=update.candle,
                        simulated=venue.simulated,
                        at_ms=update.at,
                    )
                )
                last = ctx.state.last_candles.get(update.symbol)
                if last is None:
                    last = ctx.state.last_candles[update.symbol] = LastCandle(update.symbol, update.timeframe)
                last.price, last.price_at = update.candle.close, ctx.clock.now()
                if not update.closed:
                    if market_time is not None:
                        market_time.observe(update.at if update.at is not None else update.ts)
                    continue
                async with ctx.work("store candle"):
                    await ctx.candles.upsert(
                        SeriesKey(venue.id, update.symbol, update.timeframe), [update.row()]
                    )
                last.closed_ts = update.ts
                if market_time is not None:  # after the bar is stored: a job it wakes may read it
                    market_time.observe(update.ts + timeframe_ms(update.timeframe))
                ctx.bus.publish(
                    CandleClosed(
                        venue=venue.id,
                        symbol=update.symbol,
                        timeframe=update.timeframe,
                        candle=update.candle,
                        simulated=venue.simulated,
                    )
                )
        finally:
            close = getattr(updates, "aclose", None)
            if close is not None:
                await close()
