"""Glassnode, Moralis, LunarCrush and X: disabled (not failing) without a key; with one, the key goes in
the documented header and nowhere else (not the URL, not a log line, not a health reason)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from mastertrade.engine.collectors.glassnode import GlassnodeCollector
from mastertrade.engine.collectors.health import SourceState
from mastertrade.engine.collectors.lunarcrush import LunarCrushCollector
from mastertrade.engine.collectors.moralis import MoralisCollector
from mastertrade.engine.collectors.service import CollectorService
from mastertrade.engine.collectors.x import XCollector
from mastertrade.errors import AuthenticationFailed
from tests.collectors.helpers import DAY, HOUR, NOW, Recorder, settings

KEY = "sk-live-4f7c9e1d-SECRET"
TODAY = NOW - NOW % DAY

# Glassnode /v1/metrics/<path>?a=BTC&i=24h&s=...: [{"t": day start (s), "v": value}];
# v is null for a day not computed yet.
GLASSNODE = [
    {"t": (TODAY - 2 * DAY) // 1000, "v": 912_345},
    {"t": (TODAY - DAY) // 1000, "v": 934_001},
    {"t": TODAY // 1000, "v": None},
]
# Moralis /api/v2.2/erc20/<address>/stats?chain=eth: the transfer count as a string.
MORALIS = {"transfers": {"total": "2034449"}}
# LunarCrush /api4/public/coins/list/v2: a config block and one object per coin.
LUNARCRUSH = {
    "config": {"sort": "market_cap_rank", "limit": 100, "page": 0, "generated": NOW // 1000},
    "data": [
        {
            "id": 1,
            "symbol": "BTC",
            "name": "Bitcoin",
            "price": 71250.5,
            "galaxy_score": 68.2,
            "alt_rank": 12,
            "sentiment": 79,
            "interactions_24h": 123456789,
            "social_dominance": 22.5,
        },
        {
            "id": 2,
            "symbol": "ETH",
            "name": "Ethereum",
            "price": 3890.1,
            "galaxy_score": 61.0,
            "alt_rank": 40,
            "sentiment": 72,
            "interactions_24h": 45678901,
        },
        {
            "id": 3,
            "symbol": "DOGE",
            "name": "Dogecoin",
            "galaxy_score": 70.0,
            "alt_rank": 3,
            "sentiment": 81,
            "interactions_24h": 1,
        },
    ],
}
# X API v2 /2/tweets/search/recent: posts with created_at (tweet.fields), and meta.
X_POSTS = {
    "data": [
        {
            "id": "1768600000000000001",
            "text": "$BTC to the moon, new ATH incoming",
            "created_at": "2024-03-15T12:10:00.000Z",
            "edit_history_tweet_ids": ["1768600000000000001"],
        },
        {
            "id": "1768600000000000002",
            "text": "got rekt on my bitcoin long",
            "created_at": "2024-03-15T12:20:00.000Z",
            "edit_history_tweet_ids": ["1768600000000000002"],
        },
    ],
    "meta": {"newest_id": "1768600000000000002", "oldest_id": "1768600000000000001", "result_count": 2},
}

CASES: list[tuple[type[Any], str, str, str, Any]] = [
    (GlassnodeCollector, "glassnode_api_key", "x-api-key", KEY, GLASSNODE),
    (MoralisCollector, "moralis_api_key", "x-api-key", KEY, MORALIS),
    (LunarCrushCollector, "lunarcrush_api_key", "authorization", f"Bearer {KEY}", LUNARCRUSH),
    (XCollector, "x_bearer_token", "authorization", f"Bearer {KEY}", X_POSTS),
]


@pytest.mark.parametrize(("cls", "setting", "header", "sent", "payload"), CASES)
def test_keyed_sources_are_disabled_without_their_key(
    cls: type[Any], setting: str, header: str, sent: str, payload: Any
) -> None:
    collector = cls(settings())
    reason = collector.disabled_reason()
    assert collector.needs_key and collector.key is None
    assert reason is not None and setting in reason and f"MT_COLLECTORS__{setting.upper()}" in reason
    blank = cls(settings(**{setting: "  "}))
    assert blank.disabled_reason() is not None  # an empty value is no key
    assert cls(settings(**{setting: KEY})).disabled_reason() is None


@pytest.mark.parametrize(("cls", "setting", "header", "sent", "payload"), CASES)
async def test_the_key_is_sent_in_its_header_and_never_logged(
    database: Any,
    caplog: pytest.LogCaptureFixture,
    cls: type[Any],
    setting: str,
    header: str,
    sent: str,
    payload: Any,
) -> None:
    server = Recorder({"": httpx.Response(200, json=payload)})
    collector = cls(settings(**{setting: KEY}))
    service = CollectorService(
        database,
        collector.settings,
        collectors=[collector],
        transport=httpx.MockTransport(server),
        clock=lambda: NOW,
    )
    with caplog.at_level(logging.DEBUG):
        health = await service.poll(collector)
        await service.close()
    assert health.state is SourceState.OK, health.reason
    assert health.last_values
    assert server.requests and all(request.headers[header] == sent for request in server.requests)
    for request in server.requests:
        assert KEY not in str(request.url)
    assert KEY not in caplog.text and "httpx" in caplog.text  # httpx did log the requests, without the key
    assert KEY not in repr(collector.settings) and KEY not in str(health)


@pytest.mark.parametrize(("cls", "setting", "header", "sent", "payload"), CASES)
async def test_a_refused_key_is_an_error_state_without_the_key_in_it(
    database: Any,
    caplog: pytest.LogCaptureFixture,
    cls: type[Any],
    setting: str,
    header: str,
    sent: str,
    payload: Any,
) -> None:
    collector = cls(settings(**{setting: KEY}))
    transport = httpx.MockTransport(
        lambda request: httpx.Response(401, json={"error": f"invalid key {KEY[:4]}..."})
    )
    service = CollectorService(
        database, collector.settings, collectors=[collector], transport=transport, clock=lambda: NOW
    )
    with caplog.at_level(logging.DEBUG):
        health = await service.poll(collector)
        await service.close()
    assert health.state is SourceState.ERROR
    assert "HTTP 401" in (health.reason or "") and KEY not in (health.reason or "")
    assert KEY not in caplog.text


async def test_glassnode_daily_values_are_published_at_the_end_of_their_day(
    http: Callable[..., httpx.AsyncClient],
) -> None:
    server = Recorder({"": httpx.Response(200, json=GLASSNODE)})
    collector = GlassnodeCollector(settings(glassnode_api_key=KEY, glassnode_assets=["BTC"]))
    points = await collector.collect(http(server), NOW)
    active = sorted((p.ts, p.value, p.published_at) for p in points if p.name == "active_addresses")
    assert active == [(TODAY - 2 * DAY, 912_345, TODAY - DAY), (TODAY - DAY, 934_001, TODAY)]
    assert {p.name for p in points} == {"active_addresses", "tx_count"}
    assert sorted(request.url.path for request in server.requests) == [
        "/v1/metrics/addresses/active_count",
        "/v1/metrics/transactions/count",
    ]
    assert server.requests[0].url.params["a"] == "BTC" and server.requests[0].url.params["i"] == "24h"
    with pytest.raises(AuthenticationFailed):
        await GlassnodeCollector(settings()).collect(http(server), NOW)  # no key: refuses before sending


async def test_moralis_transfer_rate_from_two_polls(http: Callable[..., httpx.AsyncClient]) -> None:
    totals = iter(["2034449", "2040449"])
    collector = MoralisCollector(settings(moralis_api_key=KEY))
    client = http(lambda request: httpx.Response(200, json={"transfers": {"total": next(totals)}}))
    first = await collector.collect(client, NOW)
    assert [(p.name, p.symbol, p.value) for p in first] == [("token_transfers_total", "ETH", 2034449)]
    second = await collector.collect(client, NOW + 2 * HOUR)
    rate = {p.name: p.value for p in second}["token_transfers_per_hour"]
    assert rate == pytest.approx(3000.0)


async def test_lunarcrush_keeps_the_configured_symbols(http: Callable[..., httpx.AsyncClient]) -> None:
    points = await LunarCrushCollector(settings(lunarcrush_api_key=KEY)).collect(
        http(lambda r: httpx.Response(200, json=LUNARCRUSH)), NOW
    )
    values = {(p.name, p.symbol): p.value for p in points}
    assert values[("galaxy_score", "BTC")] == 68.2 and values[("alt_rank", "ETH")] == 40
    assert values[("social_sentiment", "BTC")] == 79
    assert not any(symbol == "DOGE" for _, symbol in values)


async def test_x_posts_are_scored_per_symbol(http: Callable[..., httpx.AsyncClient]) -> None:
    server = Recorder(
        {
            "/2/tweets/search/recent": lambda r: httpx.Response(
                200, json=X_POSTS if "bitcoin" in r.url.params["query"] else {"meta": {"result_count": 0}}
            )
        }
    )
    collector = XCollector(
        settings(x_bearer_token=KEY, symbol_aliases={"BTC": ["bitcoin"], "ETH": ["ethereum"]})
    )
    points = await collector.collect(http(server), NOW)
    values = {(p.name, p.symbol): p.value for p in points}
    assert values[("mentions", "BTC")] == 2
    assert values[("bullish_ratio", "BTC")] == 0.5
    queries = sorted(request.url.params["query"] for request in server.requests)
    assert queries == ["(bitcoin OR btc) lang:en -is:retweet", "(eth OR ethereum) lang:en -is:retweet"]
    assert server.requests[0].url.params["tweet.fields"] == "created_at"


def test_plugin_keys_switch_on_a_plugin_collector() -> None:
    class PluginCollector(GlassnodeCollector):
        name = "plugin_source"
        key_setting = "plugin_source_key"

    assert PluginCollector(settings()).disabled_reason() is not None
    enabled = PluginCollector(settings(plugin_keys={"plugin_source_key": SecretStr(KEY)}))
    assert enabled.disabled_reason() is None and enabled.secret() == KEY
