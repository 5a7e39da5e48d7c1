"""Epoch times in either unit: a provider that sends milliseconds where it documented seconds (or the
reverse) must not have its values dropped as "in the future" or stamped in 1970."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mastertrade.engine.collectors.base import epoch_ms
from mastertrade.engine.collectors.fear_greed import FearGreedCollector
from mastertrade.engine.collectors.glassnode import GlassnodeCollector
from mastertrade.engine.collectors.news import RedditCollector
from mastertrade.engine.collectors.onchain import BlockchainStatsCollector, MempoolCollector
from mastertrade.errors import DataValidationError
from tests.collectors.helpers import DAY, NOW, settings

MockClient = Callable[..., httpx.AsyncClient]
TODAY = NOW - NOW % DAY
UNITS = pytest.mark.parametrize("scale", [1, 1000], ids=["seconds", "milliseconds"])


def stamp(ms: int, scale: int) -> int:
    """``ms`` as the provider sends it: epoch seconds (scale 1) or epoch milliseconds (scale 1000)."""
    return ms // 1000 * scale


def answering(payload: Any) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(200, json=payload)


def test_epoch_ms_reads_seconds_and_milliseconds_and_refuses_the_rest() -> None:
    assert epoch_ms(1_710_460_800, "src", "t") == 1_710_460_800_000
    assert epoch_ms("1710460800", "src", "t") == 1_710_460_800_000
    assert epoch_ms(1_710_460_800_000, "src", "t") == 1_710_460_800_000
    assert epoch_ms(1_710_460_800.5, "src", "t") == 1_710_460_800_500
    with pytest.raises(DataValidationError, match="src: unexpected payload: t is 'soon'"):
        epoch_ms("soon", "src", "t")


@UNITS
async def test_fear_greed(http: MockClient, scale: int) -> None:
    rows = [{"value": "40", "timestamp": str(stamp(ts, scale))} for ts in (TODAY, TODAY - DAY)]
    points = await FearGreedCollector(settings()).collect(http(answering({"data": rows})), NOW)
    assert [(p.ts, p.published_at) for p in points] == [(TODAY, TODAY), (TODAY - DAY, TODAY - DAY)]


@UNITS
async def test_mempool_daily_hash_rate(http: MockClient, scale: int) -> None:
    rows = [{"timestamp": stamp(TODAY - DAY, scale), "avgHashrate": 6.1e20}]

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/hashrate/1m"):
            return httpx.Response(200, json={"hashrates": rows})
        return httpx.Response(503)

    points = await MempoolCollector(settings()).collect(http(answer), NOW)
    assert [(p.name, p.ts, p.published_at) for p in points] == [("hash_rate", TODAY - DAY, TODAY)]


@pytest.mark.parametrize("scale", [1, 1000], ids=["seconds", "milliseconds"])
async def test_blockchain_stats(http: MockClient, scale: int) -> None:
    stats = {"timestamp": stamp(NOW - 60_000, scale), "n_tx": 5, "total_fees_btc": 1e8, "hash_rate": 6e11}
    points = await BlockchainStatsCollector(settings()).collect(http(answering(stats)), NOW)
    assert {(p.ts, p.published_at) for p in points} == {(NOW - 60_000, NOW)}


@UNITS
async def test_glassnode(http: MockClient, scale: int) -> None:
    rows = [{"t": stamp(TODAY - DAY, scale), "v": 934_001}]
    collector = GlassnodeCollector(settings(glassnode_api_key="k" * 32, glassnode_assets=["BTC"]))
    points = await collector.collect(http(answering(rows)), NOW)
    assert {(p.ts, p.published_at) for p in points} == {(TODAY - DAY, TODAY)}


@UNITS
async def test_reddit_posts_land_in_the_bucket_of_their_time(http: MockClient, scale: int) -> None:
    created = NOW - 3 * 3_600_000
    post = {"name": "t3_a", "title": "Bitcoin to the moon", "created_utc": float(stamp(created, scale))}
    listing = {"data": {"children": [{"data": post}]}}
    collector = RedditCollector(settings(subreddits=["bitcoin"], sentiment_bucket="1h"))
    points = await collector.collect(http(answering(listing)), NOW)
    assert {p.ts for p in points} == {created - created % 3_600_000}


@pytest.mark.parametrize("created", ["1710493200", "1710493200.0", "1710493200000"])
async def test_reddit_reads_a_creation_time_sent_as_text(http: MockClient, created: str) -> None:
    """Reddit sends ``created_utc`` as a number; sent as text it was ignored and the post counted in the
    bucket of the poll, hours after it was written."""
    post = {"name": "t3_b", "title": "Bitcoin rallies", "created_utc": created}
    listing = {"data": {"children": [{"data": post}]}}
    collector = RedditCollector(settings(subreddits=["bitcoin"], sentiment_bucket="1h"))
    points = await collector.collect(http(answering(listing)), NOW)
    assert {p.ts for p in points} == {1_710_493_200_000}
