"""Where a restarted market's time starts: a replay resumes at the close of the last bar it served
(``ReplayVenue.resume_time``), so a market clock (``kernel.clock.MarketTime``) starts there instead of
on the wall clock. Without it, jobs, cool-downs and orders placed before the first replayed price (or
after the stored bars ran out) ran on today's date, and the replay then took market time back."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mastertrade.engine.kernel.clock import MarketTime
    from mastertrade.engine.market.venue import Venue


async def resume_market_time(venue: Venue, timeframe: str, clock: MarketTime) -> None:
    """Move ``clock`` to where ``venue`` resumes, when the venue knows (a replay does)."""
    resume_time = getattr(venue, "resume_time", None)
    if resume_time is None:
        return
    at = await resume_time(timeframe)
    if at is not None:
        clock.observe(at)
