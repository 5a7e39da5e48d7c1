"""Feature time series and source health in the database (tables in ``db/models/features.py``).

Writes are bulk upserts in one transaction: a re-poll that reports the same value for the same
(source, name, symbol, ts) changes nothing, not even its publication time; a revised value (a sentiment
bucket that gained late items, a daily figure the provider corrected) replaces the old one and takes the
new publication time, never earlier than the poll that saw it (``seen_at``): a source stamps a day's
value with the day's end, and its correction the next afternoon was not known then. So a backtest sees
the revision only from when it was made. A value that appears late is treated alike: one stamped before
the source's previous successful poll (``polled_at``), of a series stored by then, was not in that poll's
answer (Glassnode leaves a day null until it has computed it), so it is published at ``seen_at``. History
a source never had the chance to show (a first backfill, a series newly configured, days the daemon was
down for) keeps the source's own stamps. Reads return numpy arrays ordered by ``ts``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import BigInteger, and_, case, delete, func, literal, or_, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from mastertrade.db.database import Database
from mastertrade.db.models.features import Feature, FeatureSource
from mastertrade.engine.collectors.base import FeaturePoint
from mastertrade.engine.collectors.health import SourceHealth, SourceState
from mastertrade.utc import from_ms

if TYPE_CHECKING:
    from mastertrade.engine.collectors.origins import Origin

_FEATURES = Feature.__table__  # type: ignore[attr-defined]
_SOURCES = FeatureSource.__table__  # type: ignore[attr-defined]
_CHUNK = 5_000
_MIN_TS = -(2**62)
_MAX_TS = 2**62

Int64Array = np.ndarray[Any, np.dtype[np.int64]]
FloatArray = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class FeatureSeries:
    """One stored series: observation times, publication times and values, ordered by ``ts``."""

    source: str
    name: str
    symbol: str
    ts: Int64Array
    published_at: Int64Array
    values: FloatArray

    def __len__(self) -> int:
        return int(self.ts.shape[0])


@dataclass(frozen=True)
class FeatureInfo:
    """What is stored for one series (``mt data sources --json`` lists them per source)."""

    source: str
    name: str
    symbol: str
    rows: int
    first: int
    last: int
    last_value: float

    def as_dict(self) -> dict[str, Any]:
        from mastertrade.engine.market.timeframes import to_iso

        return {
            "source": self.source,
            "name": self.name,
            "symbol": self.symbol,
            "rows": self.rows,
            "first": to_iso(self.first),
            "last": to_iso(self.last),
            "last_value": self.last_value,
        }


@dataclass(frozen=True)
class Derived:
    """The stored values of a source derived from one candle series: how many, how many of them
    market-wide, and how many of unknown origin (stored before origins were recorded)."""

    values: int
    market_wide: int
    unknown: int


def _dt(ms: int | None) -> datetime | None:
    return None if ms is None else from_ms(ms)


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(round(moment.timestamp() * 1000))


class FeatureStore:
    """Feature series and source health of one database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def upsert(
        self,
        source: str,
        points: Iterable[FeaturePoint],
        *,
        seen_at: int | None = None,
        polled_at: int | None = None,
        origin: Origin | None = None,
    ) -> int:
        """Insert or update values of one source in a single transaction; returns how many were given.
        ``seen_at`` (epoch ms) is when they were fetched: a revised value is published no earlier, and so
        is a value stamped before ``polled_at``, the source's previous successful poll, in a series
        stored already (see the module docstring). ``origin`` is what the values were derived from (the
        daemon's simulated source: ``origins.py``); None for values that describe the world."""
        rows = self._rows(source, points)
        if not rows:
            return 0
        async with self.db.engine.begin() as conn:
            if origin is not None:
                from mastertrade.engine.collectors.origins import origin_id

                oid = await origin_id(conn, origin)
                for row in rows:
                    row["origin_id"] = oid
            if seen_at is not None and polled_at is not None:
                await self._publish_late_at(conn, source, rows, seen_at, polled_at)
            await self._write(conn, rows, seen_at=seen_at)
        return len(rows)

    async def replace(
        self,
        source: str,
        points: Iterable[FeaturePoint],
        *,
        conn: AsyncConnection | None = None,
        origin_id: int | None = None,
    ) -> int:
        """Replace every series the points belong to (all their old values go) in one transaction;
        with ``conn``, inside the caller's (``mt data sim`` stores candles and features together).
        ``origin_id`` records what the new values were derived from (``origins.py``)."""
        rows = self._rows(source, points, origin_id)
        if not rows:
            return 0
        if conn is None:
            async with self.db.engine.begin() as own:
                await self._replace(own, source, rows)
        else:
            await self._replace(conn, source, rows)
        return len(rows)

    async def _replace(self, conn: AsyncConnection, source: str, rows: list[dict[str, Any]]) -> None:
        keys = sorted({(row["name"], row["symbol"]) for row in rows})
        for start in range(0, len(keys), 200):
            chunk = keys[start : start + 200]
            await conn.execute(
                delete(_FEATURES).where(
                    and_(
                        _FEATURES.c.source == source,
                        tuple_(_FEATURES.c.name, _FEATURES.c.symbol).in_(chunk),
                    )
                )
            )
        await self._write(conn, rows)

    async def add_missing(
        self,
        conn: AsyncConnection,
        source: str,
        points: Iterable[FeaturePoint],
        *,
        origin_id: int | None = None,
    ) -> int:
        """Store the points whose (name, symbol, ts) is not stored yet, inside the caller's transaction;
        a value already stored is kept as it is. Returns how many stored values were kept."""
        rows = self._rows(source, points, origin_id)
        kept = 0
        for name, symbol in sorted({(row["name"], row["symbol"]) for row in rows}):
            stored = set(
                (
                    await conn.execute(
                        select(_FEATURES.c.ts).where(
                            _FEATURES.c.source == source,
                            _FEATURES.c.name == name,
                            _FEATURES.c.symbol == symbol,
                        )
                    )
                ).scalars()
            )
            mine = [row for row in rows if row["name"] == name and row["symbol"] == symbol]
            fresh = [row for row in mine if row["ts"] not in stored]
            kept += len(mine) - len(fresh)
            if fresh:
                await self._write(conn, fresh)
        return kept

    async def count_by_origin(
        self, source: str, *, conn: AsyncConnection | None = None
    ) -> dict[tuple[int | None, bool], int]:
        """How many values of ``source`` each origin (``origins.py``; None: unknown) holds, split into
        market-wide (True: symbol "") and per-asset values."""
        query = (
            select(_FEATURES.c.origin_id, _FEATURES.c.symbol, func.count())
            .where(_FEATURES.c.source == source)
            .group_by(_FEATURES.c.origin_id, _FEATURES.c.symbol)
        )
        if conn is None:
            async with self.db.engine.connect() as own:
                rows = (await own.execute(query)).all()
        else:
            rows = (await conn.execute(query)).all()
        counts: dict[tuple[int | None, bool], int] = {}
        for origin, symbol, count in rows:
            key = (None if origin is None else int(origin), symbol == "")
            counts[key] = counts.get(key, 0) + int(count)
        return counts

    async def derived_from(self, source: str, series: str) -> Derived:
        """What ``source`` holds derived from ``series`` (``exchange:symbol:timeframe``; ``origins.py``)."""
        from mastertrade.engine.collectors.origins import load_origins

        counts = await self.count_by_origin(source)
        async with self.db.engine.connect() as conn:
            known = await load_origins(conn, (origin for origin, _ in counts if origin is not None))
        mine = {origin for origin, found in known.items() if found is not None and series in found.series}
        return Derived(
            sum(count for (origin, _), count in counts.items() if origin in mine),
            sum(count for (origin, wide), count in counts.items() if wide and origin in mine),
            sum(count for (origin, _), count in counts.items() if origin is None),
        )

    async def count_by_coin(self, conn: AsyncConnection, source: str) -> dict[tuple[str, int | None], int]:
        """How many per-coin values (symbol not "") of ``source`` each (coin, origin) holds, inside the
        caller's transaction (origin None: unknown)."""
        rows = (
            await conn.execute(
                select(_FEATURES.c.symbol, _FEATURES.c.origin_id, func.count())
                .where(_FEATURES.c.source == source, _FEATURES.c.symbol != "")
                .group_by(_FEATURES.c.symbol, _FEATURES.c.origin_id)
            )
        ).all()
        return {
            (str(symbol), None if origin is None else int(origin)): int(count)
            for symbol, origin, count in rows
        }

    async def remove_market_wide(self, conn: AsyncConnection, source: str, origins: set[int | None]) -> int:
        """Delete the market-wide values (symbol "") of ``source`` derived from ``origins`` (None: those
        with no recorded origin) inside the caller's transaction; returns how many."""
        ids = sorted(origin for origin in origins if origin is not None)
        held = [_FEATURES.c.origin_id.in_(ids)] if ids else []
        if None in origins:
            held.append(_FEATURES.c.origin_id.is_(None))
        if not held:
            return 0
        result = await conn.execute(
            delete(_FEATURES).where(_FEATURES.c.source == source, _FEATURES.c.symbol == "", or_(*held))
        )
        return int(result.rowcount or 0)

    async def remove(self, conn: AsyncConnection, source: str, name: str, symbol: str) -> Int64Array:
        """Delete one series inside the caller's transaction ``conn``; the times (``ts``) of the values
        it held, ordered (on SQLite the delete also takes the write lock, held until ``conn`` ends)."""
        removed = await conn.execute(
            delete(_FEATURES)
            .where(_FEATURES.c.source == source, _FEATURES.c.name == name, _FEATURES.c.symbol == symbol)
            .returning(_FEATURES.c.ts)
        )
        return np.sort(np.asarray([int(ts) for ts in removed.scalars()], dtype=np.int64))

    @staticmethod
    async def _publish_late_at(
        conn: AsyncConnection, source: str, rows: list[dict[str, Any]], seen_at: int, polled_at: int
    ) -> None:
        """Move the publication of late values (stamped before ``polled_at`` in a series that existed
        then) to ``seen_at``; a value already stored unchanged keeps its own (``_write``)."""
        early = [row for row in rows if row["published_at"] < polled_at]
        stored: set[tuple[str, str]] = set()
        for name, symbol in sorted({(row["name"], row["symbol"]) for row in early}):
            found = await conn.scalar(
                select(_FEATURES.c.ts)
                .where(_FEATURES.c.source == source, _FEATURES.c.name == name, _FEATURES.c.symbol == symbol)
                .limit(1)
            )
            if found is not None:
                stored.add((name, symbol))
        for row in early:
            if (row["name"], row["symbol"]) in stored:
                row["published_at"] = max(row["published_at"], seen_at)

    @staticmethod
    def _rows(
        source: str, points: Iterable[FeaturePoint], origin_id: int | None = None
    ) -> list[dict[str, Any]]:
        # The last report of a key within one batch wins, as it would over two batches.
        latest: dict[tuple[str, str, int], dict[str, Any]] = {}
        for point in points:
            latest[(point.name, point.symbol, point.ts)] = {
                "source": source,
                "name": point.name,
                "symbol": point.symbol,
                "ts": int(point.ts),
                "value": float(point.value),
                "published_at": int(point.published_at),
                "origin_id": origin_id,
            }
        return list(latest.values())

    async def _write(
        self, conn: AsyncConnection, rows: list[dict[str, Any]], *, seen_at: int | None = None
    ) -> None:
        insert = _dialect_insert(conn)
        statement = insert(_FEATURES)
        excluded = statement.excluded
        revised_at: Any = excluded.published_at
        if seen_at is not None:
            later = func.greatest if conn.dialect.name == "postgresql" else func.max
            revised_at = later(excluded.published_at, literal(int(seen_at), BigInteger))
        statement = statement.on_conflict_do_update(
            index_elements=["source", "name", "symbol", "ts"],
            set_={
                "value": excluded.value,
                # An unchanged value keeps the time it was first published; a revision is new information.
                "published_at": case(
                    (_FEATURES.c.value == excluded.value, _FEATURES.c.published_at),
                    else_=revised_at,
                ),
                # whoever wrote the value last is what it was derived from (a collector: nothing known)
                "origin_id": excluded.origin_id,
            },
        )
        for start in range(0, len(rows), _CHUNK):
            await conn.execute(statement, rows[start : start + _CHUNK])

    async def read(
        self,
        source: str,
        name: str,
        symbol: str = "",
        *,
        published_from: int | None = None,
        published_before: int | None = None,
    ) -> FeatureSeries:
        """A series, optionally only the values published in ``[published_from, published_before)``."""
        query = (
            select(_FEATURES.c.ts, _FEATURES.c.published_at, _FEATURES.c.value)
            .where(
                _FEATURES.c.source == source,
                _FEATURES.c.name == name,
                _FEATURES.c.symbol == symbol,
                _FEATURES.c.published_at >= (published_from if published_from is not None else _MIN_TS),
                _FEATURES.c.published_at < (published_before if published_before is not None else _MAX_TS),
            )
            .order_by(_FEATURES.c.ts)
        )
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        ts = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        published = np.fromiter((row[1] for row in rows), dtype=np.int64, count=len(rows))
        values = np.fromiter((row[2] for row in rows), dtype=np.float64, count=len(rows))
        return FeatureSeries(source, name, symbol, ts, published, values)

    async def page(
        self,
        source: str,
        name: str,
        symbol: str,
        *,
        start: int | None,
        end: int | None,
        limit: int,
        published_before: int | None = None,
    ) -> list[tuple[int, int, float]]:
        """Up to ``limit + 1`` rows (ts, published_at, value) with ``start <= ts < end`` (and published
        before ``published_before``, if given), oldest first: one page of the API's
        ``/v1/features/{name}``, and whether another follows."""
        query = (
            select(_FEATURES.c.ts, _FEATURES.c.published_at, _FEATURES.c.value)
            .where(
                _FEATURES.c.source == source,
                _FEATURES.c.name == name,
                _FEATURES.c.symbol == symbol,
                _FEATURES.c.ts >= (start if start is not None else _MIN_TS),
                _FEATURES.c.ts < (end if end is not None else _MAX_TS),
                _FEATURES.c.published_at < (published_before if published_before is not None else _MAX_TS),
            )
            .order_by(_FEATURES.c.ts)
            .limit(limit + 1)
        )
        async with self.db.engine.connect() as conn:
            return [(int(row[0]), int(row[1]), float(row[2])) for row in (await conn.execute(query)).all()]

    async def list_features(
        self, source: str | None = None, *, published_before: int | None = None
    ) -> list[FeatureInfo]:
        """Every stored series (of one source, if given) with its extent and newest value; with
        ``published_before``, of the values published before then only (a series with none is left out)."""
        where = "WHERE f.published_at < :before" + (" AND f.source = :source" if source is not None else "")
        query = text(
            "SELECT f.source, f.name, f.symbol, COUNT(*), MIN(f.ts), MAX(f.ts),"  # noqa: S608
            " (SELECT g.value FROM features g WHERE g.source = f.source AND g.name = f.name"
            "  AND g.symbol = f.symbol AND g.published_at < :before ORDER BY g.ts DESC LIMIT 1)"
            f" FROM features f {where} GROUP BY f.source, f.name, f.symbol"
            " ORDER BY f.source, f.name, f.symbol"
        )
        params: dict[str, Any] = {"before": published_before if published_before is not None else _MAX_TS}
        if source is not None:
            params["source"] = source
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(query, params)).all()
        return [FeatureInfo(r[0], r[1], r[2], int(r[3]), int(r[4]), int(r[5]), float(r[6])) for r in rows]

    async def sources_for(self, name: str, symbol: str = "") -> list[str]:
        """The sources that have stored values of ``name`` for ``symbol``."""
        query = (
            select(_FEATURES.c.source)
            .where(_FEATURES.c.name == name, _FEATURES.c.symbol == symbol)
            .distinct()
            .order_by(_FEATURES.c.source)
        )
        async with self.db.engine.connect() as conn:
            return [row[0] for row in (await conn.execute(query)).all()]

    async def save_health(self, health: SourceHealth, state: dict[str, Any] | None = None) -> None:
        """Persist a source's health (and, when given, its collector state)."""
        values: dict[str, Any] = {
            "source": health.source,
            "state": str(health.state),
            "reason": health.reason,
            "since": _dt(health.since),
            "last_success": _dt(health.last_success),
            "last_attempt": _dt(health.last_attempt),
            "next_poll": _dt(health.next_poll),
            "failures": health.failures,
            "last_values": list(health.last_values),
            "updated_at": datetime.now(UTC),
        }
        async with self.db.engine.begin() as conn:
            insert = _dialect_insert(conn)
            update = dict(values)
            update.pop("source")
            if state is not None:
                values["collector_state"] = update["collector_state"] = state
            else:
                values["collector_state"] = {}
            statement = insert(_SOURCES).values(**values)
            statement = statement.on_conflict_do_update(index_elements=["source"], set_=update)
            await conn.execute(statement)

    async def load_health(self) -> dict[str, tuple[SourceHealth, dict[str, Any]]]:
        """Every persisted source health with its collector state, by source name."""
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(select(_SOURCES))).mappings().all()
        out: dict[str, tuple[SourceHealth, dict[str, Any]]] = {}
        for row in rows:
            try:
                state = SourceState(row["state"])
            except ValueError:
                state = SourceState.STALE
            health = SourceHealth(
                source=row["source"],
                state=state,
                reason=row["reason"],
                since=_ms(row["since"]),
                last_success=_ms(row["last_success"]),
                last_attempt=_ms(row["last_attempt"]),
                next_poll=_ms(row["next_poll"]),
                failures=int(row["failures"]),
                last_values=tuple(row["last_values"] or ()),
            )
            collector_state = row["collector_state"] if isinstance(row["collector_state"], dict) else {}
            out[row["source"]] = (health, collector_state)
        return out


def newest_values(
    points: Sequence[FeaturePoint], limit: int = 12, *, known: Sequence[dict[str, Any]] = ()
) -> tuple[dict[str, Any], ...]:
    """The newest point of each (name, symbol) in a batch, for a source's health record.

    ``known`` are the values the record showed before: a series keeps its newer known value when the
    batch brings only older points (a source that answers out of order, a late correction of an old
    bucket), so the "last value" never steps back in time while the stored series does not."""
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    for item in known:
        newest[(str(item["name"]), str(item.get("symbol", "")))] = dict(item)
    for point in points:
        key = (point.name, point.symbol)
        if key not in newest or point.ts >= int(newest[key]["ts"]):
            newest[key] = {"name": point.name, "symbol": point.symbol, "value": point.value, "ts": point.ts}
    touched = {(point.name, point.symbol) for point in points}
    ordered = sorted((item for key, item in newest.items() if key in touched), key=_series_order)[:limit]
    return tuple(ordered)


def _series_order(item: dict[str, Any]) -> tuple[str, str]:
    return (str(item["symbol"]), str(item["name"]))


def _dialect_insert(conn: AsyncConnection) -> Any:
    """The dialect's ``insert`` (with ``on_conflict_do_update``), imported when a write needs it: reading
    features (a search, a backtest) never loads the Postgres dialect."""
    from sqlalchemy.dialects import postgresql, sqlite

    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
