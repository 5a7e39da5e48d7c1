"""What stored feature values were derived from: the candle series and seed of one simulation run.

Each value of the simulated market (source ``sim``) carries the ``feature_origins`` row of the
``mt data sim`` run that derived it (``features.origin_id``). So re-simulating a symbol replaces exactly
the values its earlier candles produced, another symbol's run leaves them alone, and deleting a series
can say which values no longer match any stored candles. A value with no origin was stored before it was
recorded (or by a collector): its producer is unknown, and the commands say so rather than guess.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from mastertrade.db.models.features import FeatureOrigin

if TYPE_CHECKING:
    from mastertrade.db.database import Database

_ORIGINS = FeatureOrigin.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Origin:
    """The candle series (``exchange:symbol:timeframe``, as ``SeriesKey`` prints) and the seed a run
    derived its values from."""

    series: tuple[str, ...]
    seed: int

    @classmethod
    def of(cls, series: Iterable[object], seed: int) -> Origin:
        return cls(tuple(sorted({str(key) for key in series})), int(seed))

    @property
    def symbols(self) -> tuple[str, ...]:
        """The market symbols of the series, in order, once each."""
        return tuple(dict.fromkeys(_split(key)[1] for key in self.series))

    @property
    def timeframes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_split(key)[2] for key in self.series))

    def encode(self) -> str:
        return json.dumps({"seed": self.seed, "series": list(self.series)}, sort_keys=True)

    @classmethod
    def decode(cls, text: str) -> Origin | None:
        """The origin ``text`` records, or None when it is not one this code wrote."""
        try:
            data = json.loads(text)
            series = data["series"]
            seed = data["seed"]
        except (ValueError, TypeError, KeyError):
            return None
        if not isinstance(series, list) or not all(isinstance(key, str) for key in series):
            return None
        if not isinstance(seed, int) or any(_split(key)[1] == "" for key in series):
            return None
        return cls(tuple(series), seed)

    def describe(self, note: str = "") -> str:
        """``BTC/USDT ETH/USDT 1h (seed 7)``: how messages name the producer (``note`` joins the seed)."""
        return f"{' '.join(self.symbols)} {'/'.join(self.timeframes)} (seed {self.seed}{note})"


def _split(key: str) -> tuple[str, str, str]:
    """(exchange, symbol, timeframe) of ``exchange:symbol:timeframe``; a symbol may hold a colon
    (``BTC/USDT:USDT``), an exchange id and a timeframe never do."""
    exchange, _, rest = key.partition(":")
    symbol, _, timeframe = rest.rpartition(":")
    return exchange, symbol, timeframe


async def origin_id(conn: AsyncConnection, origin: Origin) -> int:
    """The id of ``origin``'s row, written first when new, inside the caller's transaction."""
    text = origin.encode()
    found = await conn.scalar(select(_ORIGINS.c.id).where(_ORIGINS.c.derived_from == text))
    if found is not None:
        return int(found)
    result = await conn.execute(_ORIGINS.insert().values(derived_from=text))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def load_origins(conn: AsyncConnection, ids: Iterable[int]) -> dict[int, Origin | None]:
    """The origins of ``ids`` (None for a row this code cannot read)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = (
        await conn.execute(select(_ORIGINS.c.id, _ORIGINS.c.derived_from).where(_ORIGINS.c.id.in_(wanted)))
    ).all()
    return {int(row[0]): Origin.decode(str(row[1])) for row in rows}


@dataclass(frozen=True)
class Derived:
    """The stored values of a source derived from one candle series: how many, how many of them
    market-wide, and how many of unknown origin (stored before origins were recorded)."""

    values: int
    market_wide: int
    unknown: int


async def derived_from(db: Database, source: str, series: str) -> Derived:
    """What ``source`` holds derived from ``series`` (``exchange:symbol:timeframe``)."""
    from mastertrade.engine.collectors.store import FeatureStore

    counts = await FeatureStore(db).count_by_origin(source)
    async with db.engine.connect() as conn:
        known = await load_origins(conn, (origin for origin, _ in counts if origin is not None))
    mine = {origin for origin, found in known.items() if found is not None and series in found.series}
    return Derived(
        sum(count for (origin, _), count in counts.items() if origin in mine),
        sum(count for (origin, wide), count in counts.items() if wide and origin in mine),
        sum(count for (origin, _), count in counts.items() if origin is None),
    )
