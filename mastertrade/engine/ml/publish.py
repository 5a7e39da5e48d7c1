"""Replacing a stored forecast series, never under a strategy that trades on it.

``mt ml train`` recomputes a model's whole walk-forward series and replaces the stored one. That is
research: fine while no strategy reads the series. A strategy in paper, active or paused state
(:data:`~mastertrade.engine.ml.registry.IN_USE_STATES`) that reads it has traded on its past values;
rewriting them would make its backtest replay forecasts it never saw (its paper book and the backtest of
the same bars part) and break the promise that past forecasts are never rewritten. The daemon's nightly
refit (``trainer.refit``) keeps the stored series and trains the model for the bars to come, so such a
strategy is served by it; a replacement is refused (:class:`SeriesInUse`, exit 2) naming them.

The check runs twice, and both are needed:

- :func:`check_no_readers` before any training work, so the trader does not wait minutes for a refusal;
- :func:`replacing` in the transaction that writes the new series, so a strategy moved to paper while
  the training ran is still protected: the old series is deleted first (on SQLite this takes the write
  lock, which holds back every other write, a strategy's state change included, until the transaction
  ends), then the strategies are read with their rows share-locked (on Postgres a state change of any of
  them waits for the transaction, and one under way is waited for and read as committed). The refusal
  rolls the delete back: the stored series stays as it was, bit for bit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from mastertrade.db.database import Database
    from mastertrade.engine.market.store import SeriesKey


class Strategies(Protocol):
    """The stored strategies, as this module reads them (the strategy store, ``StrategyStore``, passed
    in by whoever trains: it lives in a layer above the models)."""

    async def list(self, *, states: Iterable[str], timeframe: str) -> Sequence[Any]:
        """Those in ``states`` on ``timeframe``."""
        ...

    async def locked(self, conn: AsyncConnection, *, timeframe: str) -> Sequence[Any]:
        """Those on ``timeframe``, read in the transaction ``conn``, rows share-locked until it ends."""
        ...


class SeriesInUse(UserInputError):
    """A replacement of a forecast series refused: strategies that trade (or may again) read it."""


@dataclass(frozen=True)
class Replaced:
    """What a replacement removed: how many values the stored series held and their first and last bar
    (open times, ms; None when it held none)."""

    values: int
    first: int | None
    last: int | None

    def as_dict(self) -> dict[str, Any]:
        from mastertrade.engine.market.timeframes import to_iso

        return {
            "values": self.values,
            "first": None if self.first is None else to_iso(self.first),
            "last": None if self.last is None else to_iso(self.last),
        }


@dataclass(frozen=True)
class Replacement:
    """An open replacement: write the new series (and whatever must stand or fall with it) on ``conn``."""

    conn: AsyncConnection
    replaced: Replaced


def _series_key(key: SeriesKey, horizon: int) -> dict[str, Any]:
    return {"exchange": key.exchange, "symbol": key.symbol, "timeframe": key.timeframe, "horizon": horizon}


def refusal(readers: list[str], model: str, key: SeriesKey, horizon: int, *, after: str) -> SeriesInUse:
    """The one-line refusal naming the strategies (``id (state)``) and the series; ``after`` says what
    was done before it (nothing, or a training whose result was thrown away)."""
    one = len(readers) == 1
    them = "it" if one else "them"
    return SeriesInUse(
        f"the {model} forecasts (horizon {horizon}) of {key} are read by"
        f" strateg{'y' if one else 'ies'} {', '.join(readers)}: training replaces the whole series and"
        f" would rewrite the past forecasts {them} traded on; the daemon's nightly refit (`ml_retrain`)"
        f" keeps them and trains the model for new bars. Retire {them} first (`mt strategy retire ID`)"
        f" or train under another --horizon; {after}"
    )


async def readers(strategies: Strategies, model: str, key: SeriesKey, horizon: int) -> list[str]:
    """The in-use strategies (``id (state)``) that read the forecast of ``model`` on ``key``."""
    from mastertrade.engine.ml.registry import IN_USE_STATES, forecast_readers

    stored = await strategies.list(states=IN_USE_STATES, timeframe=key.timeframe)
    return forecast_readers(stored, model, _series_key(key, horizon))


async def check_no_readers(strategies: Strategies, model: str, key: SeriesKey, horizon: int) -> None:
    """Refuse (:class:`SeriesInUse`) before any work when in-use strategies read the series."""
    found = await readers(strategies, model, key, horizon)
    if found:
        raise refusal(found, model, key, horizon, after="nothing trained, nothing stored")


@asynccontextmanager
async def replacing(
    db: Database,
    strategies: Strategies,
    model: str,
    key: SeriesKey,
    horizon: int,
    *,
    refuse_empty: bool = True,
) -> AsyncIterator[Replacement]:
    """A transaction that deletes the stored series of ``model`` on ``key`` and, unless in-use
    strategies read it, lets the caller write the new one (committed when the block ends, rolled back
    with everything written in it on an exception). Refused (:class:`SeriesInUse`) when such strategies
    read it: always with ``refuse_empty`` (their past bars saw no forecast, which the new series would
    change too), else only when the series held values (the daemon's first training of a series)."""
    from mastertrade.engine.collectors.forecast_candles import forget_reads
    from mastertrade.engine.collectors.store import FeatureStore
    from mastertrade.engine.ml.registry import forecast_readers
    from mastertrade.engine.signals.forecast_term import series_name, source

    name = series_name(model, horizon, key.timeframe, key.exchange)
    async with db.engine.begin() as conn:
        # The delete comes first: on SQLite it takes the write lock before the strategies are read.
        held = await FeatureStore(db).remove(conn, source(key.simulated), name, key.symbol)
        await forget_reads(conn, source(key.simulated), name, key.symbol)  # what its added forecasts read
        stored = await strategies.locked(conn, timeframe=key.timeframe)
        found = forecast_readers(stored, model, _series_key(key, horizon))
        if found and (refuse_empty or held.shape[0]):
            raise refusal(
                found, model, key, horizon, after="the training's forecasts and model were not stored"
            )
        first, last = (int(held[0]), int(held[-1])) if held.shape[0] else (None, None)
        yield Replacement(conn, Replaced(int(held.shape[0]), first, last))
