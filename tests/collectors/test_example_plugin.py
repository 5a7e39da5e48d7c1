"""The example collector plugin (plugins/mastertrade-example-collector) is found through its entry point,
collects CoinGecko-shaped answers, rejects malformed ones and is listed by `mt data sources`."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from mastertrade.engine.collectors.registry import plugin_classes
from mastertrade.errors import DataValidationError
from tests.collectors.helpers import NOW, Recorder, settings
from tests.conftest import MT

UPDATED_S = NOW // 1000 - 120


def global_answer(btc: object = 52.3) -> dict[str, object]:
    """CoinGecko GET /api/v3/global (abridged to what the plugin reads)."""
    return {
        "data": {
            "active_cryptocurrencies": 13690,
            "total_market_cap": {"usd": 2.41e12, "eur": 2.2e12},
            "market_cap_percentage": {"btc": btc, "eth": 16.9},
            "market_cap_change_percentage_24h_usd": -1.9,
            "updated_at": UPDATED_S,
        }
    }


def plugin() -> type:
    [cls] = [cls for cls in plugin_classes() if cls.name == "coingecko_global"]
    return cls


async def test_the_plugin_is_registered_and_collects(http: Callable[..., httpx.AsyncClient]) -> None:
    server = Recorder({"api.coingecko.com/api/v3/global": httpx.Response(200, json=global_answer())})
    points = await plugin()(settings()).collect(http(server), NOW)
    assert {p.name: p.value for p in points} == {
        "btc_dominance": 52.3,
        "eth_dominance": 16.9,
        "total_market_cap": 2.41e12,
    }
    assert {(p.ts, p.published_at) for p in points} == {(UPDATED_S * 1000, UPDATED_S * 1000)}


async def test_a_malformed_answer_is_an_error_naming_the_field(
    http: Callable[..., httpx.AsyncClient],
) -> None:
    server = Recorder({"api.coingecko.com/api/v3/global": httpx.Response(200, json=global_answer("n/a"))})
    with pytest.raises(DataValidationError, match="btc share"):
        await plugin()(settings()).collect(http(server), NOW)


def test_mt_data_sources_lists_the_plugin(mt: MT, db_url: str) -> None:
    [listed] = [source for source in mt.json("data", "sources") if source["source"] == "coingecko_global"]
    assert listed["needs_key"] is False and listed["interval_s"] == 900.0
