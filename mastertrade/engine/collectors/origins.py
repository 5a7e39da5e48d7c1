"""What stored feature values were derived from: the candle series and seed of one simulation run.

Each value of the simulated market (source ``sim``) carries the ``feature_origins`` row of the
``mt data sim`` run that derived it, or of the daemon's poll on the running simulation (its ``sim-live``
series), in ``features.origin_id``. So re-simulating a symbol replaces exactly the values its earlier
candles produced, another symbol's run leaves them alone, a second quote of a coin (BTC/EUR beside
BTC/USDT) can tell that the coin's values are another series', and deleting a series can say which values
no longer match any stored candles. A value with no origin was stored before it was recorded (or by a
collector): its producer is unknown, and the commands say so rather than guess.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from mastertrade.db.models.features import FeatureOrigin

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

    def of_coin(self, asset: str) -> tuple[str, ...]:
        """The series of the coin ``asset`` ("BTC": BTC/USDT's, BTC/EUR's) among those derived from."""
        from mastertrade.engine.market.symbols import base_asset

        return tuple(key for key in self.series if base_asset(_split(key)[1]) == asset)

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

    @property
    def live(self) -> bool:
        """Whether the daemon derived the values from its running simulation's series (``sim-live``)."""
        from mastertrade.engine.market.store import SIM_LIVE_EXCHANGE

        return all(_split(key)[0] == SIM_LIVE_EXCHANGE for key in self.series)

    def describe(self, note: str = "") -> str:
        """``BTC/USDT ETH/USDT 1h (seed 7)``: how messages name the producer (``note`` joins the seed);
        the daemon's, derived from the running simulation, is ``the daemon's live BTC/USDT 1h (seed 7)``."""
        named = f"{' '.join(self.symbols)} {'/'.join(self.timeframes)} (seed {self.seed}{note})"
        return f"the daemon's live {named}" if self.live else named


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
