"""Where research stops reading stored candles: at the market time, on a replay.

A replay's store holds the whole imported history, the bars it has yet to play too. A job that read the
newest stored bars searched, held out and sized on prices the replayed market had not shown: the nightly
generation chose strategies on the months after the replay's market time and put them on paper to trade
those very bars; the ML retraining learned on them; the VaR sampled them. So every research job the
daemon runs on a replay reads only the bars closed by its market time (``research_until``), and ``mt
generate`` and the other research commands run by hand in a replay workspace (``mt backtest``, ``mt
validate``, ``mt optimize``, ``mt ml``, ``mt rl train``) stop where the replay stands
(``workspace_market_time``) and say how many stored bars they left out (``left_out``). On an exchange or
the simulated venue nothing is stored past the market time: no bound.

A bar counts once it has closed (its open time plus the timeframe at or before the market time): the
forming bar's close is not known yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mastertrade.engine.market.timeframes import timeframe_ms

if TYPE_CHECKING:
    from mastertrade.config import Settings
    from mastertrade.db.database import Database
    from mastertrade.engine.kernel.clock import Clock
    from mastertrade.engine.market.store import SeriesKey
    from mastertrade.engine.market.venue import Venue


def opened_before(until: int, timeframe: str) -> int:
    """The bound on open times (exclusive) of the ``timeframe`` bars closed by market time ``until``."""
    return until - timeframe_ms(timeframe) + 1


def bounded(end: int | None, until: int | None, timeframe: str) -> int | None:
    """``end`` (a bound on open times, exclusive; None: none) narrowed to the bars closed by market time
    ``until`` (None: no market time, ``end`` as it is)."""
    if until is None:
        return end
    bound = opened_before(until, timeframe)
    return bound if end is None else min(end, bound)


async def left_out(db: Database, key: SeriesKey, until: int) -> dict[str, Any]:
    """What a report says of a series read as of market time ``until``: that time (``market_time``) and
    how many stored bars of it had not closed by then (``after_market_time_bars``): nothing is cut
    silently."""
    from mastertrade.engine.market.store import CandleStore
    from mastertrade.utc import iso_ms

    candles = CandleStore(db)
    everything = (await candles.info(key)).rows
    closed = (await candles.info(key, before=opened_before(until, key.timeframe))).rows
    return {"market_time": iso_ms(until), "after_market_time_bars": everything - closed}


def research_until(venue: Venue, market_time: Clock) -> int | None:
    """The daemon's research bound (epoch ms): its market time on a replay, None elsewhere."""
    if getattr(venue, "resume_time", None) is None:  # only a replay plays back bars it already stores
        return None
    return int(market_time.now().timestamp() * 1000)


async def workspace_market_time(settings: Settings, db: Database) -> int | None:
    """Where a replay workspace's market stands for research run outside the daemon (``mt generate``):
    the open of the last bar a replay began to serve (every bar closed by then was played in full; the
    daemon may still be showing that one forming), or before any, the open of the first bar it will
    play. None when the workspace does not replay, or has nothing to play."""
    if settings.market.venue != "replay":
        return None
    from mastertrade.engine.market.replay import ReplayVenue
    from mastertrade.engine.market.replay_position import ReplayPositions
    from mastertrade.engine.market.store import CandleStore
    from mastertrade.engine.market.timeframes import parse_when
    from mastertrade.errors import UserInputError

    positions = ReplayPositions(db)
    reached = await positions.reached()
    last_begun = reached.close - timeframe_ms(reached.timeframe) if reached is not None else None
    start = settings.market.replay_start
    venue = ReplayVenue(
        CandleStore(db),
        settings.market.replay_exchange,
        start=parse_when(start, what="[market] replay_start") if start else None,
        positions=positions,
    )
    try:
        at = await venue.resume_time(settings.market.symbols, settings.market.timeframe)
    except UserInputError:  # the daemon refuses this replay: the market stands where the last one left it
        return last_begun
    if reached is not None and at == reached.close:  # not skipped ahead: the bar may still be forming
        return last_begun
    return at
