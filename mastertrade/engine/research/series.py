"""Load a stored candle series with the alternative data its strategies read: the one door for every
caller that evaluates strategies on stored candles (``mt backtest``, ``mt strategy parity``, the API's
backtest curve, the generation pipeline and the ``Trader``'s decision on each closed candle).

A ``Series`` is the candles (store format, ``market.store``) and the feature values the strategies'
alternative-data terms read (``collectors.provider.features_for``; None when none reads any), with the
indicator cache the signals are computed on.

Forecast series whose candles changed since the training that made them (``collectors.forecast_candles``)
are read as the loader was told (``stale``): unchecked by default, as the paper trader reads them (its
books traded on those values, and its parity is with them); the commands refuse them (``REFUSE``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mastertrade.errors import NotFound

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mastertrade.db.database import Database
    from mastertrade.engine.collectors.forecast_candles import Stale
    from mastertrade.engine.market.store import CandleStore, SeriesKey
    from mastertrade.engine.signals.indicators import IndicatorCache


@dataclass(frozen=True)
class Series:
    """A stored series' candles and the feature values its strategies read."""

    key: SeriesKey
    frame: pd.DataFrame
    features: Any = None

    def __len__(self) -> int:
        return len(self.frame)

    def stamps(self) -> np.ndarray[Any, np.dtype[np.int64]]:
        """The bars' open times, epoch ms."""
        import pandas as pd

        return pd.DatetimeIndex(self.frame.index).as_unit("ms").asi8

    def cache(self) -> IndicatorCache:
        """A fresh indicator cache over the whole series (so indicators warm over all of it)."""
        from mastertrade.engine.signals.indicators import IndicatorCache

        return IndicatorCache(self.frame, features=self.features)


def reads_features(strategies: Sequence[Any]) -> bool:
    """Whether any of ``strategies`` (genomes, or strategies carrying a ``genome``; plugins have none)
    reads alternative data."""
    from mastertrade.engine.signals.genome import required_features

    genomes = (getattr(item, "genome", item) for item in strategies)
    return any(
        required_features(genome) for genome in genomes if genome is not None and hasattr(genome, "entry")
    )


class SeriesLoader:
    """Stored series of one database (see the module docstring)."""

    def __init__(self, db: Database, candles: CandleStore | None = None, *, stale: Stale = "read") -> None:
        from mastertrade.engine.market.store import CandleStore

        self.db = db
        self.candles = candles or CandleStore(db)
        self.stale: Stale = stale
        """What to do with forecasts whose candles changed (see the module docstring)."""

    async def load(
        self,
        key: SeriesKey,
        strategies: Sequence[Any] = (),
        *,
        start: int | None = None,
        end: int | None = None,
        simulated: bool | None = None,
        until: int | None = None,
    ) -> Series:
        """The bars of ``key`` opening in ``[start, end)`` and the features ``strategies`` read;
        ``simulated`` (default: the key's) says which market the features belong to; ``until``: a
        replay's market time, after which the forecasts' candles are not checked either."""
        frame = await self.candles.read(key, start, end)
        features = None
        if reads_features(strategies):
            # Only then: the alternative-data store (its tables, httpx) is a third of a plain
            # `mt backtest`'s start-up.
            from mastertrade.engine.collectors.provider import features_for

            features = await features_for(
                self.db,
                strategies,
                timeframe=key.timeframe,
                simulated=key.simulated if simulated is None else simulated,
                exchange=key.exchange,
                market=key.symbol,
                stale=self.stale,
                until=until,
            )
        return Series(key, frame, features)

    async def find(
        self,
        symbol: str,
        timeframe: str,
        exchange: str | None = None,
        strategies: Sequence[Any] = (),
        *,
        start: int | None = None,
        end: int | None = None,
        newest: int | None = None,
        until: int | None = None,
    ) -> Series:
        """``load`` of the stored series of ``symbol``/``timeframe`` (``exchange``'s, or the one exchange
        that has it: ``CandleStore.resolve``); ``newest`` keeps only that many bars, the newest;
        ``until`` (a market time, epoch ms) only the bars closed by then (``market.as_of``: a replay's
        store holds bars it has yet to play). ``NotFound`` when no bar is in the range."""
        from mastertrade.engine.market.as_of import opened_before
        from mastertrade.engine.market.timeframes import timeframe_ms, to_iso

        step = timeframe_ms(timeframe)
        key = await self.candles.resolve(symbol, timeframe, exchange)
        if until is not None:
            bound = opened_before(until, timeframe)
            end = bound if end is None else min(end, bound)
        if newest is not None:
            last = await self.candles.last_ts(key, before=end)
            if last is None:
                closed = f" closed by the market time {to_iso(until)}" if until is not None else ""
                raise NotFound(
                    f"no candles of {key}{closed}: get some with `mt data download` or `mt data sim`"
                )
            start = last - (newest - 1) * step
        series = await self.load(key, strategies, start=start, end=end, until=until)
        if series.frame.empty:
            since = to_iso(start) if start is not None else "the start"
            till = to_iso(end) if end is not None else "the end"
            raise NotFound(f"no candles of {key} between {since} and {till}")
        return series
