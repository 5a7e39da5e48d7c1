"""The daemon's venue, opened from the settings: one branch per ``[market] venue`` kind.

Each branch imports its implementation when it is chosen, so an offline ``sim`` daemon never pays for
importing ccxt. Adding a kind is one more ``if``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    from mastertrade.config import Settings
    from mastertrade.db.database import Database
    from mastertrade.engine.market.venue import Venue


async def open_venue(settings: Settings, db: Database) -> Venue:
    """The venue the live feed comes from, ready to use; the caller closes it."""
    kind = settings.market.venue
    if kind == "ccxt":
        from mastertrade.engine.market.ccxt_venue import CcxtVenue

        venue = CcxtVenue(settings.exchange)
        try:
            # Fail at start-up, naming the value, when the configured market cannot be served.
            venue.check_timeframe(settings.market.timeframe)
            for symbol in settings.market.symbols:
                await venue.check_symbol(symbol)
        except BaseException:
            await venue.close()
            raise
        return venue
    if kind == "sim":
        from mastertrade.engine.market.sim_venue import SimVenue
        from mastertrade.engine.market.store import CandleStore

        sim = SimVenue(
            seed=settings.market.seed,
            speed=settings.market.speed,
            ticks_per_bar=settings.market.ticks_per_bar,
            store=CandleStore(db),
        )
        # Before any service reads it: the running simulation trades (and generates on) its own series.
        await sim.seed_live_series(settings.market.symbols, settings.market.timeframe)
        return sim
    if kind == "replay":
        from mastertrade.engine.market.replay import ReplayVenue
        from mastertrade.engine.market.replay_position import ReplayPositions
        from mastertrade.engine.market.store import CandleStore
        from mastertrade.engine.market.timeframes import parse_when

        start = settings.market.replay_start
        replay = ReplayVenue(
            CandleStore(db),
            settings.market.replay_exchange,
            start=parse_when(start, what="[market] replay_start") if start else None,
            speed=settings.market.speed,
            ticks_per_bar=settings.market.ticks_per_bar,
            positions=ReplayPositions(db),
        )
        # Fail at start-up, naming both times, when the replay would take market time back.
        await replay.check_start(settings.market.symbols, settings.market.timeframe)
        return replay
    raise UserInputError(f"unsupported market venue {kind!r}")
