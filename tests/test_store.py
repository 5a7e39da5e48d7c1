"""The candle store on SQLite and (with MT_TEST_POSTGRES_URL) Postgres: upsert, read, list, resolve."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mastertrade.engine.market.store import CandleStore, SeriesKey, rows_from_frame
from mastertrade.errors import NotFound, UserInputError

HOUR = 3_600_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z


def candles(
    n: int, start: int = T0, price: float = 100.0
) -> list[tuple[int, float, float, float, float, float]]:
    rng = np.random.default_rng(7)
    rows = []
    for i in range(n):
        o = price * (1 + rng.normal(0, 0.01))
        c = o * (1 + rng.normal(0, 0.01))
        rows.append((start + i * HOUR, o, max(o, c) * 1.001, min(o, c) * 0.999, c, float(rng.uniform(1, 9))))
    return rows


async def test_upsert_and_read_back_exactly(database: Any) -> None:
    store = CandleStore(database)
    key = SeriesKey("binance", "BTC/USDT", "1h")
    rows = candles(500)
    assert await store.upsert(key, rows) == 500
    frame = await store.read(key)
    assert len(frame) == 500
    assert str(frame.index.tz) == "UTC"
    assert rows_from_frame(frame) == rows  # bit-exact floats and timestamps


async def test_upsert_twice_never_duplicates_and_replaces_values(database: Any) -> None:
    store = CandleStore(database)
    key = SeriesKey("binance", "ETH/USDT", "1h")
    rows = candles(100)
    await store.upsert(key, rows)
    changed = [(ts, o, h, lo, 1.2345, v) for ts, o, h, lo, _, v in rows[90:]]
    await store.upsert(key, rows[50:90] + changed + candles(10, start=T0 + 100 * HOUR))
    info = await store.info(key)
    assert info.rows == 110
    assert info.first == T0 and info.last == T0 + 109 * HOUR
    frame = await store.read(key, start=T0 + 90 * HOUR, end=T0 + 100 * HOUR)
    assert len(frame) == 10 and (frame["close"] == 1.2345).all()


async def test_list_and_resolve(database: Any) -> None:
    store = CandleStore(database)
    await store.upsert(SeriesKey("binance", "BTC/USDT", "1h"), candles(3))
    await store.upsert(SeriesKey("sim", "BTC/USDT", "1h"), candles(5))
    await store.upsert(SeriesKey("sim", "BTC/USDT", "1d"), candles(2))
    listed = [(i.key.exchange, i.key.timeframe, i.rows) for i in await store.list_series()]
    assert listed == [("binance", "1h", 3), ("sim", "1d", 2), ("sim", "1h", 5)]
    assert (await store.resolve("BTC/USDT", "1d")).exchange == "sim"
    assert (await store.resolve("BTC/USDT", "1h", "binance")).exchange == "binance"
    with pytest.raises(UserInputError, match="several exchanges .*binance, sim"):
        await store.resolve("BTC/USDT", "1h")
    with pytest.raises(NotFound, match="no candles stored for DOGE/USDT 1h"):
        await store.resolve("DOGE/USDT", "1h")


async def test_a_series_only_the_running_simulation_has_is_named_with_how_to_read_it(database: Any) -> None:
    """On the default workspace (the daemon on the simulated market) `mt backtest sma_cross --symbol
    BTC/USDT --timeframe 1h` said "no candles stored for BTC/USDT 1h: run `mt data download` ..." while
    `mt data list` showed sim-live's BTC/USDT 1h: research reads that series only when named."""
    store = CandleStore(database)
    await store.upsert(SeriesKey("sim-live", "BTC/USDT", "1h"), candles(5))
    with pytest.raises(NotFound) as refused:
        await store.resolve("BTC/USDT", "1h")
    assert str(refused.value) == (
        "no candles stored for BTC/USDT 1h: run `mt data download`, `mt data sim` or `mt data import` first;"
        " the daemon's simulated market has it (sim-live), which research reads only when named:"
        " --exchange sim-live"
    )
    assert (await store.resolve("BTC/USDT", "1h", "sim-live")).exchange == "sim-live"
    with pytest.raises(NotFound) as other:
        await store.resolve("ETH/USDT", "1h")
    assert "sim-live" not in str(other.value)


async def test_failed_write_leaves_nothing(database: Any) -> None:
    store = CandleStore(database)
    key = SeriesKey("binance", "SOL/USDT", "1h")
    bad: list[Any] = [
        *candles(10),
        (T0 + 99 * HOUR, None, 1.0, 1.0, 1.0, 1.0),
    ]  # NOT NULL violation
    with pytest.raises(Exception):  # noqa: B017 - the driver's own IntegrityError
        await store.upsert(key, bad)
    assert (await store.info(key)).rows == 0


async def test_a_series_id_is_looked_up_once_and_a_rolled_back_one_is_not_remembered(database: Any) -> None:
    """The daemon stores a candle of every symbol each bar; the id lookup is remembered once found."""
    from sqlalchemy import event, text

    store = CandleStore(database)
    key = SeriesKey("binance", "BTC/USDT", "1h")
    lookups: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("SELECT id FROM series WHERE exchange ="):
            lookups.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    try:
        with pytest.raises(RuntimeError):  # a series created in a transaction that is rolled back
            async with database.engine.begin() as conn:
                assert await store.series_id(key, create=True, conn=conn) is not None
                raise RuntimeError("rolled back")
        assert await store.series_id(key) is None  # not remembered: asked again, and not there
        for start in range(3):
            await store.upsert(key, candles(2, start=T0 + start * 2 * HOUR))
        assert await store.last_ts(key) == T0 + 5 * HOUR
        assert (await store.info(key)).rows == 6
        async with database.engine.connect() as conn:
            stored = await conn.scalar(text("SELECT id FROM series WHERE symbol = 'BTC/USDT'"))
        assert await store.series_id(key) == stored
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", count)
    # not found before the rollback, nor after it, nor by the first upsert (which creates it); found by
    # the second upsert and remembered from then on
    assert len(lookups) == 4, lookups
    assert await CandleStore(database).last_ts(SeriesKey("binance", "NONE/USDT", "1h")) is None


@pytest.mark.parametrize("start", [T0, -50 * HOUR])
async def test_bucket_closes_are_the_last_close_of_each_bucket(database: Any, start: int) -> None:
    """What the VaR job samples (``riskmetrics._sample`` over every bar of the span before the newest
    bar), read in SQL; negative times (before 1970) fall in floored buckets as numpy's ``//`` puts them."""
    from mastertrade.engine.execution.riskmetrics import _sample

    store = CandleStore(database)
    key = SeriesKey("sim", "BTC/USDT", "1h")
    rows = candles(24 * 9 + 5, start=start + 3 * HOUR)
    del rows[40:52]  # a gap of half a day
    await store.upsert(key, rows)
    last = rows[-1][0]
    day = 24 * HOUR
    for span in (20 * day, 7 * day + 5 * HOUR, 3 * HOUR, 0):
        frame = await store.read(key, last - span, last + 1)
        assert await store.bucket_closes(key, day, span) == _sample(frame["close"], day, 10_000)
    assert await store.bucket_closes(SeriesKey("sim", "NONE/USDT", "1h"), day, day) == []


async def test_the_newest_and_oldest_bar_within_a_bound(database: Any) -> None:
    """``last_ts(before=)`` is the newest bar opened before a time (where a replay stands in its stored
    history), ``first_ts(start=)`` the oldest opened at or after one (the first bar it would play)."""
    store = CandleStore(database)
    key = SeriesKey("csv", "BTC/USDT", "1h")
    await store.upsert(key, candles(6))
    assert await store.last_ts(key, before=T0 + 3 * HOUR) == T0 + 2 * HOUR
    assert await store.last_ts(key, before=T0) is None
    assert await store.first_ts(key, start=T0 + 2 * HOUR + 1) == T0 + 3 * HOUR
    assert await store.first_ts(key, start=T0 + 6 * HOUR) is None
    assert (await store.last_ts(key), await store.first_ts(key)) == (T0 + 5 * HOUR, T0)


async def test_bucket_closes_before_a_bound_ignore_the_bars_after_it(database: Any) -> None:
    """A replay's VaR samples the closes it has played: the bars opened from ``before`` on (stored, yet
    to play) count neither as the newest bar nor in any bucket."""
    from mastertrade.engine.execution.riskmetrics import _sample

    store = CandleStore(database)
    key = SeriesKey("csv", "BTC/USDT", "1h")
    rows = candles(24 * 9)
    await store.upsert(key, rows)
    day = 24 * HOUR
    bound = rows[24 * 5 + 7][0]  # the market stands in the sixth day: the bars from 07:00 on are to come
    frame = await store.read(key, bound - HOUR - 3 * day, bound)
    assert await store.bucket_closes(key, day, 3 * day, before=bound) == _sample(frame["close"], day, 10_000)
    assert await store.bucket_closes(key, day, 3 * day, before=T0) == []
