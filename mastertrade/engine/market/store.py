"""The OHLCV store: candle series in the database, read back as pandas DataFrames.

Writes are bulk upserts (a re-run never duplicates a candle; a newer value for the same bar replaces
the old one) inside one transaction, so a failed write leaves nothing half-written. Reads return a
DataFrame indexed by the bar's open time (UTC) with float columns open, high, low, close, volume.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from mastertrade.db.database import Database
from mastertrade.engine.candle import CandleRow
from mastertrade.errors import NotFound, UserInputError

SIM_EXCHANGE = "sim"
SIM_LIVE_EXCHANGE = "sim-live"
"""The running simulation's own series (the simulated daemon's feed). It starts as a copy of the research
series (``sim``) and grows with the simulated market, so a running simulation never changes a series the
trader backtests; research commands pick it only when asked (``--exchange sim-live``)."""
_MIN_TS = -(2**62)
_MAX_TS = 2**62
_SELECT = (
    "SELECT ts, open, high, low, close, volume FROM candles"
    " WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts"
)
PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
_CHUNK = 50_000


EXCHANGE_MAX_LENGTH = 64
"""The longest exchange id a series is stored under (its column's width: PostgreSQL refuses a longer one)."""


def is_simulated_exchange(exchange: str) -> bool:
    """True for the simulated market's series: the research one and the running simulation's."""
    return exchange in (SIM_EXCHANGE, SIM_LIVE_EXCHANGE)


@dataclass(frozen=True, order=True)
class SeriesKey:
    """Names one candle series."""

    exchange: str
    symbol: str
    timeframe: str

    @property
    def simulated(self) -> bool:
        return is_simulated_exchange(self.exchange)

    def __str__(self) -> str:
        return f"{self.exchange}:{self.symbol}:{self.timeframe}"


@dataclass(frozen=True)
class SeriesInfo:
    """What ``mt data list`` shows for one series."""

    key: SeriesKey
    first: int | None
    last: int | None
    rows: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "exchange": self.key.exchange,
            "symbol": self.key.symbol,
            "timeframe": self.key.timeframe,
            "simulated": self.key.simulated,
            "first": _when(self.first),
            "last": _when(self.last),
            "rows": self.rows,
        }


def _when(ts: int | None) -> str | None:
    """A bar's open time as ISO-8601; one no calendar holds (an import from before the check on epoch
    units stored microseconds as milliseconds) as its number, so the series can still be listed and
    deleted (``mt data delete``)."""
    from mastertrade.engine.market.timeframes import to_iso

    if ts is None:
        return None
    try:
        return to_iso(ts)
    except (OverflowError, ValueError, OSError):
        return f"{ts} (epoch ms, not a date)"


def rows_from_frame(frame: pd.DataFrame) -> list[CandleRow]:
    """Candle rows from a DataFrame with a UTC DatetimeIndex or a ``ts`` column (epoch ms)."""
    if "ts" in frame.columns:
        ts = frame["ts"].to_numpy(dtype=np.int64)
    else:
        ts = pd.DatetimeIndex(frame.index).as_unit("ms").asi8
    columns = [frame[name].to_numpy(dtype=np.float64).tolist() for name in PRICE_COLUMNS]
    return list(zip(ts.tolist(), *columns, strict=True))


def frame_from_matrix(matrix: np.ndarray[Any, np.dtype[np.float64]]) -> pd.DataFrame:
    """A candle DataFrame (UTC DatetimeIndex named ``time``) from an (n, 6) array of
    ts, open, high, low, close, volume."""
    ts = matrix[:, 0].astype(np.int64)
    index = pd.DatetimeIndex(pd.to_datetime(ts, unit="ms", utc=True), name="time")
    return pd.DataFrame(matrix[:, 1:], index=index, columns=list(PRICE_COLUMNS), copy=False)


class CandleStore:
    """Candle series of one database.

    A series' id is looked up once and then remembered: the daemon stores a candle of every symbol
    each bar, and the lookup was most of that write's cost. Series rows are never renamed, and deleted
    only by :meth:`delete` when it empties one (`mt data delete`, refused while the daemon runs), which
    forgets the id; so a remembered id stays right. An id is remembered only once a ``SELECT`` has found
    it (a row this store has just inserted may yet be rolled back with its transaction), and a series
    not found is asked for again (another process may create it)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._ids: dict[SeriesKey, int] = {}

    async def series_id(
        self, key: SeriesKey, *, create: bool = False, conn: AsyncConnection | None = None
    ) -> int | None:
        known = self._ids.get(key)
        if known is not None:
            return known
        if conn is None:
            async with self.db.engine.begin() as own:
                return await self.series_id(key, create=create, conn=own)
        params = {"exchange": key.exchange, "symbol": key.symbol, "timeframe": key.timeframe}
        found = await conn.scalar(
            text(
                "SELECT id FROM series WHERE exchange = :exchange AND symbol = :symbol"
                " AND timeframe = :timeframe"
            ),
            params,
        )
        if found is not None:
            self._ids[key] = int(found)
            return int(found)
        if not create:
            return None
        from mastertrade.db.models import Series

        table = Series.__table__  # type: ignore[attr-defined]
        return int(await conn.scalar(table.insert().values(**params).returning(table.c.id)))

    async def upsert(self, key: SeriesKey, rows: Iterable[CandleRow]) -> int:
        """Insert or replace candles of one series in a single transaction; returns the row count."""
        batch = list(rows)
        if not batch:
            return 0
        async with self.db.engine.begin() as conn:
            series_id = await self.series_id(key, create=True, conn=conn)
            assert series_id is not None
            for start in range(0, len(batch), _CHUNK):
                await self._write(conn, series_id, batch[start : start + _CHUNK])
        return len(batch)

    async def replace(
        self, key: SeriesKey, rows: Iterable[CandleRow], *, conn: AsyncConnection | None = None
    ) -> int:
        """Replace a whole series with ``rows`` in one transaction (regenerated simulated data);
        returns how many stored candles it replaced. With ``conn``, inside the caller's transaction
        (``mt data sim`` stores the candles and the features derived from them together)."""
        if conn is None:
            async with self.db.engine.begin() as own:
                return await self.replace(key, rows, conn=own)
        batch = list(rows)
        series_id = await self.series_id(key, create=True, conn=conn)
        assert series_id is not None
        result = await conn.execute(text("DELETE FROM candles WHERE series_id = :sid"), {"sid": series_id})
        for start in range(0, len(batch), _CHUNK):
            await self._write(conn, series_id, batch[start : start + _CHUNK])
        return int(result.rowcount)

    async def delete(self, key: SeriesKey, start: int | None = None, end: int | None = None) -> int:
        """Delete the candles with ``start <= ts < end`` (either bound optional) in one transaction and
        return how many. A series left with no candle loses its row too, in the same transaction, so
        `mt data list` no longer lists it (it listed an empty "ghost" with no first or last bar): the row
        holds only the series' names, and its candles are the only rows that refer to it by id (checked
        by ``tests/test_series_registry.py``); strategies, trials and features name a series by its
        exchange, symbol and timeframe, and find it again once an import, download or simulation stores
        it anew."""
        clauses = ["series_id = :sid"]
        params: dict[str, int] = {}
        if start is not None:
            clauses.append("ts >= :start")
            params["start"] = start
        if end is not None:
            clauses.append("ts < :end")
            params["end"] = end
        async with self.db.engine.begin() as conn:
            series_id = await self.series_id(key, conn=conn)
            if series_id is None:
                return 0
            result = await conn.execute(
                text(f"DELETE FROM candles WHERE {' AND '.join(clauses)}"),  # noqa: S608  (our own clauses)
                {"sid": series_id, **params},
            )
            await conn.execute(
                text(
                    "DELETE FROM series WHERE id = :sid"
                    " AND NOT EXISTS (SELECT 1 FROM candles WHERE series_id = :sid)"
                ),
                {"sid": series_id},
            )
            self._ids.pop(key, None)
        return int(result.rowcount)

    async def _write(self, conn: AsyncConnection, series_id: int, rows: list[CandleRow]) -> None:
        if conn.dialect.name == "postgresql":
            # One statement over arrays: far faster through asyncpg than a row-by-row executemany.
            raw = await conn.get_raw_connection()
            columns = list(zip(*rows, strict=True))
            await raw.driver_connection.execute(  # type: ignore[union-attr]
                "INSERT INTO candles (series_id, ts, open, high, low, close, volume)"
                " SELECT $1::int, * FROM unnest($2::bigint[], $3::float8[], $4::float8[],"
                " $5::float8[], $6::float8[], $7::float8[])"
                " ON CONFLICT (series_id, ts) DO UPDATE SET open = excluded.open,"
                " high = excluded.high, low = excluded.low, close = excluded.close,"
                " volume = excluded.volume",
                series_id,
                *[list(column) for column in columns],
            )
            return
        # series_id is an int from our own table, inlined so each of a million rows need not carry it.
        await conn.exec_driver_sql(
            "INSERT INTO candles (series_id, ts, open, high, low, close, volume)"  # noqa: S608
            f" VALUES ({int(series_id)}, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (series_id, ts) DO UPDATE SET open = excluded.open,"
            " high = excluded.high, low = excluded.low, close = excluded.close,"
            " volume = excluded.volume",
            rows,
        )

    async def read_matrix(
        self, key: SeriesKey, start: int | None = None, end: int | None = None
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Candles with ``start <= ts < end`` (either bound optional), oldest first, as an (n, 6)
        float64 array of ts, open, high, low, close, volume (epoch ms are exact in a float64)."""
        async with self.db.engine.connect() as conn:
            series_id = await self.series_id(key, conn=conn)
            if series_id is None:
                raise NotFound(f"no candles stored for {key} (see `mt data list`)")
            bounds = [
                series_id,
                start if start is not None else _MIN_TS,
                end if end is not None else _MAX_TS,
            ]
            # The driver's own cursor: SQLAlchemy's Row objects would cost more than the query itself.
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None
            if conn.dialect.name == "postgresql":
                records = await raw.fetch(_SELECT.replace("?", "${}").format(1, 2, 3), *bounds)
                rows: list[Any] = [tuple(record) for record in records]
            else:
                cursor = await raw.execute(_SELECT, bounds)
                rows = list(await cursor.fetchall())
                await cursor.close()
        if not rows:
            return np.empty((0, 6), dtype=np.float64)
        return np.array(rows, dtype=np.float64)

    async def read(self, key: SeriesKey, start: int | None = None, end: int | None = None) -> pd.DataFrame:
        """The candles of a series as a DataFrame (see the module docstring)."""
        return frame_from_matrix(await self.read_matrix(key, start, end))

    async def bucket_closes(
        self, key: SeriesKey, bucket_ms: int, span_ms: int, *, before: int | None = None
    ) -> list[float]:
        """The close of the last stored bar in each ``bucket_ms`` bucket (epoch-ms buckets, UTC) of the
        bars from ``span_ms`` before the newest bar's open time up to the newest, oldest first: the
        series sampled at a coarser horizon (the VaR job's daily returns from hourly bars, run every
        few seconds by a simulated daemon) in one statement, without reading and converting every bar.
        With ``before``, only the bars opened before it count (a replay's store holds bars it has yet to
        play: ``market.as_of``). The bucket is the floor of ``ts / bucket_ms``, written so that SQLite's
        and Postgres' truncating division floor a negative ``ts`` too."""
        async with self.db.engine.connect() as conn:
            series_id = await self.series_id(key, conn=conn)
            if series_id is None:
                return []
            result = await conn.execute(
                text(
                    "SELECT c.close FROM candles c JOIN ("
                    " SELECT MAX(ts) AS ts FROM candles WHERE series_id = :sid AND ts < :before AND ts >= ("
                    "  SELECT MAX(ts) FROM candles WHERE series_id = :sid AND ts < :before) - :span"
                    " GROUP BY (ts - ((ts % :bucket) + :bucket) % :bucket) / :bucket"
                    ") last ON c.series_id = :sid AND c.ts = last.ts ORDER BY c.ts"
                ),
                {
                    "sid": series_id,
                    "span": span_ms,
                    "bucket": bucket_ms,
                    "before": before if before is not None else _MAX_TS,
                },
            )
            return [float(row[0]) for row in result.all()]

    async def last_ts(self, key: SeriesKey, *, before: int | None = None) -> int | None:
        """The newest bar's open time (of the bars opened before ``before``, when given): one index
        lookup (``info`` also counts the series' rows)."""
        return await self._edge_ts(key, "MAX", _MIN_TS, before if before is not None else _MAX_TS)

    async def first_ts(self, key: SeriesKey, *, start: int | None = None) -> int | None:
        """The oldest bar's open time (of the bars opened at or after ``start``, when given): one index
        lookup."""
        return await self._edge_ts(key, "MIN", start if start is not None else _MIN_TS, _MAX_TS)

    async def _edge_ts(
        self, key: SeriesKey, which: Literal["MIN", "MAX"], start: int, end: int
    ) -> int | None:
        async with self.db.engine.connect() as conn:
            series_id = await self.series_id(key, conn=conn)
            if series_id is None:
                return None
            where = "series_id = :sid AND ts >= :start AND ts < :end"
            edge = await conn.scalar(
                text(f"SELECT {which}(ts) FROM candles WHERE {where}"),  # noqa: S608  (MIN or MAX)
                {"sid": series_id, "start": start, "end": end},
            )
            return None if edge is None else int(edge)

    async def timestamps(self, key: SeriesKey, start: int) -> np.ndarray[Any, np.dtype[np.int64]]:
        """The open times of the bars from ``start`` on, oldest first (the gaps of a recent window are
        found from them without reading the prices)."""
        async with self.db.engine.connect() as conn:
            series_id = await self.series_id(key, conn=conn)
            if series_id is None:
                return np.empty(0, dtype=np.int64)
            result = await conn.execute(
                text("SELECT ts FROM candles WHERE series_id = :sid AND ts >= :start ORDER BY ts"),
                {"sid": series_id, "start": start},
            )
            return np.array([int(row[0]) for row in result.all()], dtype=np.int64)

    async def info(self, key: SeriesKey, *, before: int | None = None) -> SeriesInfo:
        """The series' first and last bar and how many are stored (of the bars opened before ``before``,
        when given)."""
        async with self.db.engine.connect() as conn:
            series_id = await self.series_id(key, conn=conn)
            if series_id is None:
                return SeriesInfo(key, None, None, 0)
            row = (
                await conn.execute(
                    text(
                        "SELECT MIN(ts), MAX(ts), COUNT(*) FROM candles"
                        " WHERE series_id = :sid AND ts < :before"
                    ),
                    {"sid": series_id, "before": before if before is not None else _MAX_TS},
                )
            ).one()
            return SeriesInfo(key, row[0], row[1], int(row[2]))

    async def list_series(self) -> list[SeriesInfo]:
        async with self.db.engine.connect() as conn:
            result = await conn.execute(
                text(
                    "SELECT s.exchange, s.symbol, s.timeframe, MIN(c.ts), MAX(c.ts), COUNT(c.ts)"
                    " FROM series s LEFT JOIN candles c ON c.series_id = s.id"
                    " GROUP BY s.id, s.exchange, s.symbol, s.timeframe"
                    " ORDER BY s.exchange, s.symbol, s.timeframe"
                )
            )
            return [
                SeriesInfo(SeriesKey(row[0], row[1], row[2]), row[3], row[4], int(row[5]))
                for row in result.all()
            ]

    async def resolve(self, symbol: str, timeframe: str, exchange: str | None = None) -> SeriesKey:
        """The one stored series for a symbol and timeframe; ``exchange`` picks among several. Symbol and
        exchange are matched without case (``btc/usdt`` finds ``BTC/USDT``), the exact spelling first. The
        running simulation's series (``SIM_LIVE_EXCHANGE``) is chosen only by name: research reads
        research data. A timeframe spelled otherwise than its one way (``60m``) finds only a series
        stored under that very name, from before such spellings were refused. A blank ``exchange`` is
        refused naming it (it was read as no exchange given, and the refusal named none)."""
        from mastertrade.engine.market.symbols import same_symbol

        if exchange is not None and not exchange.strip():
            raise UserInputError(
                f"invalid --exchange {exchange!r}: expected an exchange id, like binance or sim"
            )
        stored = await self.list_series()
        found = [
            info.key
            for info in stored
            if same_symbol(info.key.symbol, symbol)
            and info.key.timeframe == timeframe
            and (
                same_symbol(info.key.exchange, exchange)
                if exchange is not None
                else info.key.exchange != SIM_LIVE_EXCHANGE
            )
            and info.rows > 0
        ]
        exact = [
            key
            for key in found
            if key.symbol == symbol.strip() and (exchange is None or key.exchange == exchange.strip())
        ]
        matches = exact or found
        if not matches and "/" not in symbol:
            # BTCUSDT (from --symbol or a genome file) is no market anything stores: `mt data download`,
            # which the message below suggests, would refuse it too
            like = sorted(
                {
                    info.key.symbol
                    for info in stored
                    if same_symbol(info.key.symbol.replace("/", ""), symbol)
                    and info.key.timeframe == timeframe
                }
            )
            raise UserInputError(
                f"invalid symbol {symbol!r}: expected BASE/QUOTE, like {like[0] if like else 'BTC/USDT'}"
            )
        if not matches:
            from mastertrade.engine.market.timeframes import check_timeframe

            # a series stored under `60m` before such spellings were refused is read under that name;
            # with none, the name to write instead (`1h`) is the answer, not "download it"
            check_timeframe(timeframe, what="--timeframe")
            where = f" on {exchange}" if exchange else ""
            # the running simulation's series is listed by `mt data list`: "no candles stored" alone, while
            # the list shows them, sent the trader to download what is there
            simulated = exchange is None and any(
                info.key.exchange == SIM_LIVE_EXCHANGE
                and same_symbol(info.key.symbol, symbol)
                and info.key.timeframe == timeframe
                and info.rows > 0
                for info in stored
            )
            raise NotFound(
                f"no candles stored for {symbol} {timeframe}{where}: "
                "run `mt data download`, `mt data sim` or `mt data import` first"
                + (
                    f"; the daemon's simulated market has it ({SIM_LIVE_EXCHANGE}), which research reads only"
                    f" when named: --exchange {SIM_LIVE_EXCHANGE}"
                    if simulated
                    else ""
                )
            )
        if len({key.exchange for key in matches}) < len(matches):
            names = ", ".join(str(key) for key in matches)
            raise UserInputError(
                f"{symbol} {timeframe} is stored under several spellings ({names}): type one exactly"
            )
        if len(matches) > 1:
            names = ", ".join(key.exchange for key in matches)
            raise UserInputError(
                f"{symbol} {timeframe} is stored for several exchanges ({names}): pick one with --exchange"
            )
        return matches[0]

    async def stored_spelling(self, key: SeriesKey) -> SeriesKey:
        """``key`` as stored when its exchange and symbol are stored in another case (``btc/usdt`` for
        ``BTC/USDT``, as :meth:`resolve` matches them), ``key`` itself when it is stored so, or when
        there is no such series or several. Reads the series table only (no candle counts): the API
        asks it for every series it does not find as spelled."""
        from mastertrade.engine.market.symbols import same_symbol

        async with self.db.engine.connect() as conn:
            result = await conn.execute(
                text("SELECT exchange, symbol FROM series WHERE timeframe = :timeframe"),
                {"timeframe": key.timeframe},
            )
            stored = [SeriesKey(str(row[0]), str(row[1]), key.timeframe) for row in result.all()]
        found = [
            other
            for other in stored
            if same_symbol(other.exchange, key.exchange) and same_symbol(other.symbol, key.symbol)
        ]
        return found[0] if len(found) == 1 else key

    async def key_for(self, exchange: str, symbol: str, timeframe: str) -> SeriesKey:
        """The key to write ``symbol``'s candles under: the spelling already stored for it on this
        exchange and timeframe when one differs only in case (so that a write never starts a second
        series of the same market), else ``symbol`` as given."""
        from mastertrade.engine.market.symbols import spelled_as

        async with self.db.engine.connect() as conn:
            result = await conn.execute(
                text("SELECT symbol FROM series WHERE exchange = :exchange AND timeframe = :timeframe"),
                {"exchange": exchange, "timeframe": timeframe},
            )
            stored = [str(row[0]) for row in result.all()]
        return SeriesKey(exchange, spelled_as(symbol, stored) or symbol, timeframe)
