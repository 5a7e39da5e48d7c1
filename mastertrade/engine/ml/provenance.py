"""Which candles a stored forecast series was made from, so that it is never scored against others.

A training stores its walk-forward forecasts and records, in the model it stores with them, the candles
it read (:func:`candle_stamp`: first and last bar, how many, a digest of their open times and closes).
The candles can change under the forecasts afterwards: `mt data sim` replaces a simulated series as a
whole (another seed is another price path), an import writes over stored bars, a delete removes some.
The forecasts stay, made from the old prices, and `mt ml evaluate` scored them against the new ones:
a verdict, a hit rate and a threshold backtest of forecasts that never saw these candles, given as the
model's. :func:`check_unchanged` refuses that, naming what changed and how to train again.

The model whose stamp is checked is the newest one stored with the series as it is now (its ``series``
stamp, :mod:`.pending`, still matches the stored forecasts): the training that made them. Bars added
after it (the daemon's new bars, a download) are outside its stamp and change nothing. Models trained
before this stamp was recorded, and series with no such model, are not checked.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mastertrade.errors import UserInputError

if TYPE_CHECKING:
    from mastertrade.artifacts import ArtifactStore
    from mastertrade.db.database import Database
    from mastertrade.engine.market.store import SeriesKey

CANDLES = "candles"
"""The key of the candle stamp in a forecast model's ``meta``."""


class CandlesChanged(UserInputError):
    """The stored forecasts were made from candles that have changed since."""


def _digest(opens: np.ndarray[Any, Any], close: np.ndarray[Any, Any]) -> str:
    found = hashlib.sha256(np.ascontiguousarray(opens, dtype="<i8").tobytes())
    found.update(np.ascontiguousarray(close, dtype="<f8").tobytes())
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
        "digest": _digest(opens, frame["close"].to_numpy(dtype=np.float64)),
    }


def unchanged(recorded: dict[str, Any], frame: pd.DataFrame) -> bool:
    """Whether ``frame`` holds, over the recorded bars, exactly the candles ``recorded`` says."""
    opens = _opens(frame)
    inside = (opens >= int(recorded["first"])) & (opens <= int(recorded["last"]))
    close = frame["close"].to_numpy(dtype=np.float64)
    return int(inside.sum()) == int(recorded["bars"]) and _digest(opens[inside], close[inside]) == str(
        recorded["digest"]
    )


async def check_unchanged(
    db: Database,
    store: ArtifactStore,
    model: str,
    key: SeriesKey,
    horizon: int,
    frame: pd.DataFrame,
) -> None:
    """Raise :class:`CandlesChanged` when the stored forecasts of ``model`` were made from candles of
    ``key`` other than those of ``frame`` (see the module docstring)."""
    from mastertrade.engine.market.timeframes import to_iso
    from mastertrade.engine.ml.pending import committed
    from mastertrade.engine.ml.trainer import KIND, artifact_key

    for artifact in reversed(store.versions(KIND, model, artifact_key(key, horizon))):
        series, candles = artifact.meta.get("series"), artifact.meta.get(CANDLES)
        if not isinstance(series, dict) or not await committed(db, series):
            continue  # a refit (it stores no series), or a training whose series was replaced since
        if not isinstance(candles, dict) or unchanged(candles, frame):
            return
        span = f"{to_iso(int(candles['first']))} .. {to_iso(int(candles['last']))}"
        raise CandlesChanged(
            f"the stored {model} forecasts (horizon {horizon}) of {key} were made from other candles:"
            f" the {int(candles['bars']):,} bars {span} that model {artifact.version} made them from"
            " have changed since (re-simulated, imported over or deleted); scored against these candles"
            f" they would mean nothing: train again with `mt ml train {model}`"
        )
