"""Data over the API: ``/v1/candles`` and ``/v1/features/{name}`` over a time range, page by page with
a ``next`` cursor, for any stored series, including the alternative data and a series with gaps."""

from __future__ import annotations

import pytest

from mastertrade.config import Settings
from mastertrade.engine.collectors.base import FeaturePoint
from mastertrade.engine.collectors.store import FeatureStore
from mastertrade.engine.market.store import SeriesKey
from mastertrade.engine.market.timeframes import to_iso
from mastertrade.errors import NotFound, UserInputError
from tests.daemon.conftest import Engine
from tests.daemon.fakes import HOUR, T0

DAY = 24 * HOUR


@pytest.fixture
def settings(sqlite_settings: Settings) -> Settings:
    return sqlite_settings


async def test_candles_page_through_a_range_with_a_gap(engine: Engine) -> None:
    key = SeriesKey("binance", "SOL/USDT", "1h")
    stamps = [T0 + i * HOUR for i in range(10)] + [T0 + (100 + i) * HOUR for i in range(5)]  # a 90-bar gap
    await engine.ctx.candles.upsert(key, [(ts, 1.0, 2.0, 0.5, 1.5 + n, 10.0) for n, ts in enumerate(stamps)])
    client = engine.client()
    seen: list[int] = []
    since: str | None = to_iso(T0)
    pages = 0
    while since is not None:
        page = await client.candles("SOL/USDT", exchange="binance", timeframe="1h", since=since, limit=4)
        assert len(page.candles) <= 4 and not page.simulated
        seen += [c.ts for c in page.candles]
        since = page.next
        pages += 1
    assert seen == stamps and pages == 4  # 4 + 4 + 4 + 3, across the gap, nothing twice or missed
    window = await client.candles(
        "SOL/USDT", exchange="binance", since=to_iso(T0 + 2 * HOUR), until=to_iso(T0 + 5 * HOUR), limit=100
    )
    assert [c.ts for c in window.candles] == stamps[2:5] and window.next is None
    newest = await client.candles("SOL/USDT", exchange="binance", until=to_iso(T0 + 10 * HOUR), limit=2)
    assert [c.ts for c in newest.candles] == stamps[8:10]
    with pytest.raises(UserInputError, match="invalid since 'yesterday'"):
        await client.candles("SOL/USDT", exchange="binance", since="yesterday")
    with pytest.raises(UserInputError, match="must be after since"):
        await client.candles("SOL/USDT", exchange="binance", since=to_iso(T0 + HOUR), until=to_iso(T0))
    await client.aclose()


async def test_candles_find_a_symbol_in_any_case(engine: Engine) -> None:
    # was: a 404 for btc/usdt where `mt backtest --symbol btc/usdt` finds the stored BTC/USDT
    key = SeriesKey("binance", "SOL/USDT", "1h")
    stamps = [T0 + i * HOUR for i in range(60)]
    await engine.ctx.candles.upsert(
        key, [(ts, 1.0, 2.0, 0.5, 1.5 + n % 7, 10.0) for n, ts in enumerate(stamps)]
    )
    client = engine.client()
    page = await client.candles("sol/usdt", exchange="Binance", timeframe="1h", limit=3)
    assert page.symbol == "SOL/USDT" and page.exchange == "binance"
    assert [c.ts for c in page.candles] == stamps[-3:]
    with pytest.raises(NotFound, match="no candles stored for binance:eth/usdt:1h"):
        await client.candles("eth/usdt", exchange="binance", timeframe="1h")
    await client.aclose()


async def test_features_list_and_page_for_every_source(engine: Engine) -> None:
    store = FeatureStore(engine.ctx.db)
    await store.upsert(
        "fear_greed",
        [FeaturePoint("fear_greed", 10.0 + d, T0 + d * DAY, T0 + d * DAY + HOUR) for d in range(7)],
    )
    await store.upsert("whales", [FeaturePoint("whale_max_usd", 2e6, T0 + HOUR, T0 + 2 * HOUR, "BTC")])
    await store.upsert("sim", [FeaturePoint("fear_greed", 50.0, T0, T0 + HOUR)])
    client = engine.client()
    listed = await client.features()
    assert {(f.source, f.name, f.symbol) for f in listed} == {
        ("fear_greed", "fear_greed", ""),
        ("whales", "whale_max_usd", "BTC"),
        ("sim", "fear_greed", ""),
    }
    assert next(f for f in listed if f.source == "sim").simulated
    with pytest.raises(UserInputError, match=r"several sources: pick one with source= \(fear_greed, sim\)"):
        await client.feature("fear_greed")
    values: list[float] = []
    since: str | None = to_iso(T0 + DAY)
    while since is not None:
        page = await client.feature("fear_greed", source="fear_greed", since=since, limit=4)
        assert not page.simulated
        values += [p.value for p in page.points]
        since = page.next
    assert values == [11.0, 12.0, 13.0, 14.0, 15.0, 16.0]
    first = (await client.feature("fear_greed", source="fear_greed", limit=1)).points[0]
    assert first.ts == T0 and first.published_at.timestamp() * 1000 == T0 + HOUR
    whales = await client.feature("whale_max_usd", symbol="BTC")
    assert whales.source == "whales" and [p.value for p in whales.points] == [2e6]
    with pytest.raises(NotFound, match="no feature 'whale_max_usd' stored"):
        await client.feature("whale_max_usd")  # market-wide: it is stored per symbol
    await client.aclose()
