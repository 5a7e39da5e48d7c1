"""Where a market stands when the daemon starts: a replay resumes at the close of the last bar it
served (``ReplayVenue.resume_time``), a fresh one at the open of the first bar it will play, so a market
clock (``kernel.clock.MarketTime``) starts there instead of on the wall clock. Without it, jobs,
cool-downs and orders placed before the first replayed price (or after the stored bars ran out) ran on
today's date, and the replay then took market time back. The daemon moves its market clock there before
any service starts (a scheduler that read the clock first kept today's dates), the trading service its
own.

The last closed bar of each symbol (``mt status``) is, on a replay, the last one it served
(``ReplayVenue.last_served``), not the newest stored one: a replay's store holds the bars it has yet
to play, and a restarted daemon showed the end of the stored history as where the market stood."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mastertrade.engine.market.store import SeriesKey

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mastertrade.engine.kernel.clock import MarketTime
    from mastertrade.engine.market.store import CandleStore
    from mastertrade.engine.market.venue import Venue


async def resume_market_time(venue: Venue, symbols: Sequence[str], timeframe: str, clock: MarketTime) -> None:
    """Move ``clock`` to where ``venue`` resumes, when the venue knows (a replay does)."""
    resume_time = getattr(venue, "resume_time", None)
    if resume_time is None:
        return
    at = await resume_time(symbols, timeframe)
    if at is not None:
        clock.observe(at)


async def last_closed_bar(venue: Venue, candles: CandleStore, symbol: str, timeframe: str) -> int | None:
    """Open time of ``symbol``'s last closed bar when the feed starts: the last one a replay served, else
    the newest stored one (where an exchange's feed goes on from)."""
    last_served = getattr(venue, "last_served", None)
    if last_served is not None:
        served: int | None = await last_served(symbol, timeframe)
        return served
    return await candles.last_ts(SeriesKey(venue.id, symbol, timeframe))
