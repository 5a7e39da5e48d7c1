"""Feature series and source health in the database, on SQLite and (when configured) Postgres."""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.engine.collectors.base import FeaturePoint
from mastertrade.engine.collectors.health import SourceHealth, SourceState
from mastertrade.engine.collectors.store import FeatureStore
from mastertrade.errors import DataValidationError
from tests.collectors.helpers import HOUR, NOW


async def test_round_trip_upsert_and_publication_times(database: Any) -> None:
    store = FeatureStore(database)
    points = [
        FeaturePoint("sentiment", 0.1 * i, NOW + i * HOUR, NOW + (i + 1) * HOUR, "BTC") for i in range(5)
    ]
    assert await store.upsert("news", points) == 5
    series = await store.read("news", "sentiment", "BTC")
    assert series.ts.tolist() == [NOW + i * HOUR for i in range(5)]
    assert series.published_at.tolist() == [NOW + (i + 1) * HOUR for i in range(5)]
    assert series.values.tolist() == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    # The same value reported again keeps its first publication time; a revision takes the new one.
    later = NOW + 10 * HOUR
    await store.upsert(
        "news",
        [
            FeaturePoint("sentiment", 0.1, NOW + HOUR, later, "BTC"),
            FeaturePoint("sentiment", -0.5, NOW + 2 * HOUR, later, "BTC"),
        ],
    )
    series = await store.read("news", "sentiment", "BTC")
    assert series.published_at.tolist()[1:3] == [NOW + 2 * HOUR, later]
    assert series.values.tolist()[1:3] == pytest.approx([0.1, -0.5])
    window = await store.read(
        "news", "sentiment", "BTC", published_from=NOW + 3 * HOUR, published_before=NOW + 5 * HOUR
    )
    assert window.ts.tolist() == [NOW + 3 * HOUR]  # published at +4 h; +3 h and +5 h fall outside
    assert len(await store.read("news", "sentiment", "ETH")) == 0


async def test_series_are_keyed_by_source_name_and_symbol(database: Any) -> None:
    store = FeatureStore(database)
    await store.upsert(
        "news", [FeaturePoint("sentiment", 0.2, NOW, NOW, "BTC"), FeaturePoint("sentiment", 0.3, NOW, NOW)]
    )
    await store.upsert("reddit", [FeaturePoint("sentiment", -0.4, NOW, NOW, "BTC")])
    await store.upsert(
        "fear_greed",
        [FeaturePoint("fear_greed", 55, NOW - HOUR, NOW - HOUR), FeaturePoint("fear_greed", 60, NOW, NOW)],
    )
    assert await store.sources_for("sentiment", "BTC") == ["news", "reddit"]
    assert await store.sources_for("sentiment") == ["news"]
    infos = {(i.source, i.name, i.symbol): i for i in await store.list_features()}
    assert infos[("fear_greed", "fear_greed", "")].rows == 2
    assert infos[("fear_greed", "fear_greed", "")].last_value == 60
    assert infos[("reddit", "sentiment", "BTC")].as_dict()["last"] == "2024-03-15T12:30:00Z"
    assert [i.source for i in await store.list_features("news")] == ["news", "news"]


async def test_replace_removes_the_old_values_of_the_series_in_one_go(database: Any) -> None:
    store = FeatureStore(database)
    await store.upsert("sim", [FeaturePoint("sentiment", 0.5, NOW + i, NOW + i, "BTC") for i in range(10)])
    await store.upsert("sim", [FeaturePoint("sentiment", 0.5, NOW, NOW, "ETH")])
    await store.replace("sim", [FeaturePoint("sentiment", 0.1, NOW + 100, NOW + 100, "BTC")])
    assert (await store.read("sim", "sentiment", "BTC")).ts.tolist() == [NOW + 100]
    assert len(await store.read("sim", "sentiment", "ETH")) == 1  # another series is left alone


async def test_a_large_batch_is_written_in_one_transaction(database: Any) -> None:
    store = FeatureStore(database)
    points = [
        FeaturePoint("mentions", float(i), NOW + i * 1000, NOW + i * 1000, "BTC") for i in range(12_000)
    ]
    assert await store.upsert("news", points) == 12_000
    assert len(await store.read("news", "mentions", "BTC")) == 12_000


def test_points_refuse_impossible_values() -> None:
    with pytest.raises(DataValidationError, match="not a finite number"):
        FeaturePoint("x", float("nan"), NOW, NOW)
    with pytest.raises(DataValidationError, match="before its time"):
        FeaturePoint("x", 1.0, NOW, NOW - 1)


async def test_source_health_and_collector_state_round_trip(database: Any) -> None:
    store = FeatureStore(database)
    health = SourceHealth(
        "news",
        SourceState.STALE,
        reason="HTTP 503 from news.example/rss",
        since=NOW,
        last_success=NOW - HOUR,
        last_attempt=NOW,
        next_poll=NOW + 60_000,
        failures=2,
        last_values=({"name": "sentiment", "symbol": "BTC", "value": 0.25, "ts": NOW - HOUR},),
    )
    await store.save_health(health, {"seen": ["a", "b"]})
    await store.save_health(health)  # without a state: the saved state is kept
    loaded, state = (await store.load_health())["news"]
    assert loaded == health
    assert state == {"seen": ["a", "b"]}
    assert loaded.as_dict()["since"] == "2024-03-15T12:30:00Z"
