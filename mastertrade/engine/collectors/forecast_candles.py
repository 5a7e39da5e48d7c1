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
after it (the daemon's new bars, a download) are outside its stamp and change nothing by themselves.
Models trained before this stamp was recorded, and series with no such model, are not checked.

A stored model adds forecasts to the series after its training, one per new bar (the daemon's forecasts
service, `mt ml predict`: ``trainer.predict_latest``). Each records, beside its value and in the same
transaction (:func:`add_forecast`, table ``forecast_reads``), the candles it read beyond those already
recorded: the bars opened after the training's last (or after the previous added forecast's bar) up to its
own, how many, a digest of their closes. So a rewrite of bars newer than the training that an added
forecast read is caught too, and newer bars never rewritten stay fine. A training that replaces the
series forgets them with it (:func:`forget_reads`).

On a replay (``market.as_of``) the store holds the bars the replay has yet to play: every check then
reads only the recorded bars closed by its market time (``until``), as every other reader there does, so
a rewrite of bars still to come changes nothing the replay shows until it plays them.

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
    from sqlalchemy.ext.asyncio import AsyncConnection

    from mastertrade.artifacts import Artifact, ArtifactStore
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


async def _training(
    db: Database, model: str, key: SeriesKey, horizon: int, store: ArtifactStore
) -> tuple[Artifact, dict[str, Any] | None] | None:
    """The model whose training made the stored series as it is now, and its candle stamp (None: trained
    before it was recorded); None when no stored model made it."""
    for artifact in reversed(store.versions(KIND, model, artifact_key(key, horizon))):
        series, candles = artifact.meta.get("series"), artifact.meta.get(CANDLES)
        if not isinstance(series, dict) or not await committed(db, series):
            continue  # a refit (it stores no series), or a training whose series was replaced since
        return artifact, candles if isinstance(candles, dict) else None
    return None


def _series_of(model: str, key: SeriesKey, horizon: int) -> tuple[str, str, str]:
    """(source, name, symbol) of the forecast series of ``model`` on ``key``."""
    from mastertrade.engine.signals.forecast_term import series_name, source

    return source(key.simulated), series_name(model, horizon, key.timeframe, key.exchange), key.symbol


def read_stamp(frame: pd.DataFrame, after: int, bar: int) -> dict[str, Any]:
    """What a forecast made at the close of ``bar`` from ``frame`` records of the candles it read beyond
    bar ``after`` (an open time, excluded): those bars' count and digest; ``after`` is raised to just
    before the frame's first bar when older (bars it did not read)."""
    opens = _opens(frame)
    after = max(int(after), int(opens[0]) - 1) if len(opens) else int(after)
    inside = (opens > after) & (opens <= bar)
    close = frame["close"].to_numpy(dtype=np.float64)
    return {"after": after, "bars": int(inside.sum()), "digest": series_digest(opens[inside], close[inside])}


async def covered(
    db: Database, model: str, key: SeriesKey, horizon: int, bar: int, *, store: ArtifactStore | None = None
) -> int:
    """The newest bar before ``bar`` whose candles are already recorded for the stored forecasts of
    ``model``: the newest added forecast's bar, else the training's last; -1 when neither is."""
    from sqlalchemy import func, select

    from mastertrade.artifacts import ArtifactStore

    found = await _training(db, model, key, horizon, store or ArtifactStore.default())
    last = int(found[1]["last"]) if found is not None and found[1] is not None else -1
    source, name, symbol = _series_of(model, key, horizon)
    table = _reads_table()
    async with db.engine.connect() as conn:
        newest = await conn.scalar(
            select(func.max(table.c.ts)).where(
                table.c.source == source, table.c.name == name, table.c.symbol == symbol, table.c.ts < bar
            )
        )
    return max(last, -1 if newest is None else int(newest))


def _reads_table() -> Any:
    from mastertrade.db.models.features import ForecastRead

    return ForecastRead.__table__  # type: ignore[attr-defined]


async def add_forecast(
    conn: AsyncConnection, model: str, key: SeriesKey, horizon: int, bar: int, read: dict[str, Any]
) -> None:
    """Record, in the caller's transaction (the one storing the forecast), what the forecast of ``bar``
    read (:func:`read_stamp`)."""
    from sqlalchemy import delete

    source, name, symbol = _series_of(model, key, horizon)
    table = _reads_table()
    where = (table.c.source == source, table.c.name == name, table.c.symbol == symbol, table.c.ts == bar)
    await conn.execute(delete(table).where(*where))
    await conn.execute(
        table.insert().values(
            source=source,
            name=name,
            symbol=symbol,
            ts=int(bar),
            after=int(read["after"]),
            bars=int(read["bars"]),
            digest=str(read["digest"]),
        )
    )


async def forget_reads(conn: AsyncConnection, source: str, name: str, symbol: str) -> None:
    """Drop the records of a forecast series' added forecasts, in the transaction replacing it."""
    from sqlalchemy import delete

    table = _reads_table()
    await conn.execute(
        delete(table).where(table.c.source == source, table.c.name == name, table.c.symbol == symbol)
    )


async def _added_changed(
    db: Database,
    model: str,
    key: SeriesKey,
    horizon: int,
    trained: int,
    frame: pd.DataFrame | None,
    bound: int | None,
) -> list[int]:
    """The bars of the forecasts added after the training (whose last bar is ``trained``) whose candles
    changed since they were made (only those up to ``frame``'s last bar, when given, and of bars opened
    before ``bound``: their candles are all the bars read)."""
    from sqlalchemy import select

    from mastertrade.engine.market.store import CandleStore

    source, name, symbol = _series_of(model, key, horizon)
    table = _reads_table()
    where = [table.c.source == source, table.c.name == name, table.c.symbol == symbol, table.c.ts > trained]
    if bound is not None:
        where.append(table.c.ts < bound)
    async with db.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(table.c.ts, table.c.after, table.c.bars, table.c.digest)
                .where(*where)
                .order_by(table.c.ts)
            )
        ).all()
    if frame is not None and len(frame):
        newest = int(_opens(frame)[-1])
        rows = [row for row in rows if int(row[0]) <= newest]
    if not rows:
        return []
    first, last = min(int(row[1]) for row in rows) + 1, max(int(row[0]) for row in rows)
    try:
        candles = await CandleStore(db).read(key, first, last + 1)
    except NotFound:  # the series was deleted
        candles = pd.DataFrame({"close": []}, index=pd.DatetimeIndex([], tz="UTC"))
    opens, close = _opens(candles), candles["close"].to_numpy(dtype=np.float64)
    changed = []
    for ts, after, bars, digest in rows:
        lo = np.searchsorted(opens, int(after), side="right")  # the bars opened after ``after`` ...
        hi = np.searchsorted(opens, int(ts), side="right")  # ... up to the forecast's own
        if hi - lo != int(bars) or series_digest(opens[lo:hi], close[lo:hi]) != str(digest):
            changed.append(int(ts))
    return changed


async def stale(
    db: Database,
    model: str,
    key: SeriesKey,
    horizon: int,
    *,
    store: ArtifactStore | None = None,
    frame: pd.DataFrame | None = None,
    until: int | None = None,
) -> str | None:
    """Why the stored forecasts of ``model`` (``horizon``) on ``key`` must not be read with its candles as
    they are now (see the module docstring), in one line; None when they may. ``frame``: the candles, when
    the caller has read them all; else the recorded bars are read from the store. ``until``: a replay's
    market time (``market.as_of``): only the recorded bars closed by then are read and checked, the ones
    it has yet to play are not its market's yet; a training that recorded bars after it (one run before
    the workspace replayed) is checked once the replay has played them all."""
    from mastertrade.artifacts import ArtifactStore
    from mastertrade.engine.market.as_of import opened_before
    from mastertrade.engine.market.timeframes import to_iso

    found = await _training(db, model, key, horizon, store or ArtifactStore.default())
    candles = None if found is None else found[1]
    if found is None or candles is None:
        return None  # no stored model made them, or trained before the candles were recorded: not checked
    artifact = found[0]
    bound = None if until is None else opened_before(until, key.timeframe)
    if bound is not None and int(candles["last"]) >= bound:
        return None  # its digest covers bars the replay has yet to play: not read (see the docstring)
    again = f"read beside these candles they would mean nothing: train again with `mt ml train {model}`"
    head = f"the stored {model} forecasts (horizon {horizon}) of {key} were made from other candles"
    if not unchanged(candles, frame if frame is not None else await _candles(db, key, candles)):
        span = f"{to_iso(int(candles['first']))} .. {to_iso(int(candles['last']))}"
        return (
            f"{head}: the {int(candles['bars']):,} bars {span} that model {artifact.version} made them from"
            f" have changed since (re-simulated, imported over or deleted); {again}"
        )
    changed = await _added_changed(db, model, key, horizon, int(candles["last"]), frame, bound)
    if not changed:
        return None
    span = to_iso(changed[0]) if len(changed) == 1 else f"{to_iso(changed[0])} .. {to_iso(changed[-1])}"
    return (
        f"{head}: the bars read by the {len(changed):,} forecast{'s' if len(changed) > 1 else ''} of {span},"
        f" added after model {artifact.version}'s training, have changed since (re-simulated, imported"
        f" over or deleted); {again}"
    )


async def check(
    db: Database,
    model: str,
    key: SeriesKey,
    horizon: int,
    *,
    store: ArtifactStore | None = None,
    frame: pd.DataFrame | None = None,
    until: int | None = None,
) -> None:
    """Raise :class:`CandlesChanged` when :func:`stale` says why."""
    reason = await stale(db, model, key, horizon, store=store, frame=frame, until=until)
    if reason is not None:
        raise CandlesChanged(reason)
