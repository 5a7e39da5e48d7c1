"""Which candles a stored forecast series was made from, so that it is never read beside others.

A training stores its walk-forward forecasts and records, in the model it stores with them, the candles
it read (:func:`candle_stamp`: first and last bar, how many, a digest of their open times and closes).
The candles can change under the forecasts afterwards: `mt data sim` replaces a simulated series as a
whole (another seed is another price path), an import writes over stored bars, a delete removes some.
The forecasts stay, made from the old prices; `mt ml evaluate` scored them against the new ones, and
`mt backtest`, `mt generate`, `mt validate` and `mt ml predict` read them as the forecasts of these
candles: a backtest, a search or a stored value of forecasts that never saw these prices, given as the
model's. :func:`stale` says so, naming what changed and how to train again.

The model whose stamp is checked is the newest one stored with the series as it is now (its ``series``
stamp, :func:`committed`, still matches the stored forecasts): the training that made them. Bars added
after it (the daemon's new bars, a download) are outside its stamp and change nothing. Models trained
before this stamp was recorded, and series with no such model, are not checked.

It lives beside the feature store, below the models, because every reader of stored forecasts goes
through the feature provider (:mod:`.provider`), which checks each forecast series it loads as its
caller asks (:data:`Stale`): refused (the commands), left out with a warning (the daemon's nightly
generation and signal alerts) or read as before (the paper trader: its books traded on those values).
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from mastertrade.errors import NotFound, UserInputError

if TYPE_CHECKING:
    from mastertrade.artifacts import ArtifactStore
    from mastertrade.db.database import Database
    from mastertrade.engine.market.store import SeriesKey

log = logging.getLogger(__name__)

KIND = "forecast"
"""The artifact kind of a forecast model."""
CANDLES = "candles"
"""The key of the candle stamp in a forecast model's ``meta``."""

Stale = Literal["refuse", "skip", "read"]
"""What a reader does with a forecast series whose candles changed: raise :class:`CandlesChanged`, leave
it out (it reads as missing) with a warning, or read it unchecked."""
REFUSE: Stale = "refuse"
SKIP: Stale = "skip"
READ: Stale = "read"


class CandlesChanged(UserInputError):
    """The stored forecasts were made from candles that have changed since."""


def series_digest(ts: np.ndarray[Any, Any], values: np.ndarray[Any, Any]) -> str:
    """A digest of a series' bars (epoch ms) and values (a forecast series, or candles' closes)."""
    found = hashlib.sha256(np.ascontiguousarray(ts, dtype="<i8").tobytes())
    found.update(np.ascontiguousarray(values, dtype="<f8").tobytes())
    return found.hexdigest()[:32]


def _opens(frame: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.int64]]:
    opens: np.ndarray[Any, np.dtype[np.int64]] = pd.DatetimeIndex(frame.index).as_unit("ms").asi8
    return opens


def candle_stamp(frame: pd.DataFrame) -> dict[str, Any]:
    """What a training records of the candles it read (``frame``, in time order)."""
    opens = _opens(frame)
    return {
        "first": int(opens[0]),
        "last": int(opens[-1]),
        "bars": len(frame),
        "digest": series_digest(opens, frame["close"].to_numpy(dtype=np.float64)),
    }


def unchanged(recorded: dict[str, Any], frame: pd.DataFrame) -> bool:
    """Whether ``frame`` holds, over the recorded bars, exactly the candles ``recorded`` says."""
    opens = _opens(frame)
    inside = (opens >= int(recorded["first"])) & (opens <= int(recorded["last"]))
    close = frame["close"].to_numpy(dtype=np.float64)
    return int(inside.sum()) == int(recorded["bars"]) and series_digest(opens[inside], close[inside]) == str(
        recorded["digest"]
    )


async def committed(db: Database, recorded: dict[str, Any]) -> bool:
    """Whether the stored forecast series holds what ``recorded`` (``ml.pending.stamp``) says, on its
    bars."""
    from mastertrade.engine.collectors.store import FeatureStore

    series = await FeatureStore(db).read(
        str(recorded["source"]), str(recorded["name"]), str(recorded["symbol"])
    )
    inside = (series.ts >= int(recorded["first"])) & (series.ts <= int(recorded["last"]))
    return int(inside.sum()) == int(recorded["values"]) and series_digest(
        series.ts[inside], series.values[inside]
    ) == str(recorded["digest"])


def artifact_key(key: SeriesKey, horizon: int) -> dict[str, Any]:
    """The key a forecast model of ``key`` and ``horizon`` is stored under."""
    return {"exchange": key.exchange, "symbol": key.symbol, "timeframe": key.timeframe, "horizon": horizon}


async def _candles(db: Database, key: SeriesKey, recorded: dict[str, Any]) -> pd.DataFrame:
    from mastertrade.engine.market.store import CandleStore

    try:
        return await CandleStore(db).read(key, int(recorded["first"]), int(recorded["last"]) + 1)
    except NotFound:  # the series was deleted
        return pd.DataFrame({"close": []}, index=pd.DatetimeIndex([], tz="UTC"))


async def stale(
    db: Database,
    model: str,
    key: SeriesKey,
    horizon: int,
    *,
    store: ArtifactStore | None = None,
    frame: pd.DataFrame | None = None,
) -> str | None:
    """Why the stored forecasts of ``model`` (``horizon``) on ``key`` must not be read with its candles as
    they are now (see the module docstring), in one line; None when they may. ``frame``: the candles, when
    the caller has read them all; else the recorded bars are read from the store."""
    from mastertrade.artifacts import ArtifactStore
    from mastertrade.engine.market.timeframes import to_iso

    store = store or ArtifactStore.default()
    for artifact in reversed(store.versions(KIND, model, artifact_key(key, horizon))):
        series, candles = artifact.meta.get("series"), artifact.meta.get(CANDLES)
        if not isinstance(series, dict) or not await committed(db, series):
            continue  # a refit (it stores no series), or a training whose series was replaced since
        if not isinstance(candles, dict):
            return None  # trained before the candles were recorded: not checked
        if unchanged(candles, frame if frame is not None else await _candles(db, key, candles)):
            return None
        span = f"{to_iso(int(candles['first']))} .. {to_iso(int(candles['last']))}"
        return (
            f"the stored {model} forecasts (horizon {horizon}) of {key} were made from other candles:"
            f" the {int(candles['bars']):,} bars {span} that model {artifact.version} made them from"
            " have changed since (re-simulated, imported over or deleted); read beside these candles"
            f" they would mean nothing: train again with `mt ml train {model}`"
        )
    return None


async def check(
    db: Database,
    model: str,
    key: SeriesKey,
    horizon: int,
    *,
    store: ArtifactStore | None = None,
    frame: pd.DataFrame | None = None,
) -> None:
    """Raise :class:`CandlesChanged` when :func:`stale` says why."""
    reason = await stale(db, model, key, horizon, store=store, frame=frame)
    if reason is not None:
        raise CandlesChanged(reason)
