"""Global crypto market figures from CoinGecko, as a MasterTrade collector plugin.

``GET https://api.coingecko.com/api/v3/global`` answers (abridged)::

    {"data": {"active_cryptocurrencies": 13690,
              "total_market_cap": {"usd": 2.41e12, "eur": 2.2e12, ...},
              "market_cap_percentage": {"btc": 52.3, "eth": 16.9, ...},
              "market_cap_change_percentage_24h_usd": -1.9,
              "updated_at": 1711112345}}

``updated_at`` (seconds) is when CoinGecko computed the figures: it is both the time they describe and
when they were published.
"""

from __future__ import annotations

from typing import Any

import httpx

from mastertrade.engine.collectors.base import MINUTE_S, Collector, FeaturePoint, as_dict, as_float, get_json

URL = "https://api.coingecko.com/api/v3/global"


class CoinGeckoGlobal(Collector):
    name = "coingecko_global"
    description = "Bitcoin and Ether dominance, total crypto market cap (CoinGecko /global, no key)"
    default_interval_s = 15 * MINUTE_S

    async def collect(self, client: httpx.AsyncClient, now: int) -> list[FeaturePoint]:
        payload: Any = await get_json(client, URL)
        data = as_dict(as_dict(payload, self.name, "the answer").get("data"), self.name, "data")
        shares = as_dict(data.get("market_cap_percentage"), self.name, "data.market_cap_percentage")
        caps = as_dict(data.get("total_market_cap"), self.name, "data.total_market_cap")
        updated = int(as_float(data.get("updated_at"), self.name, "data.updated_at")) * 1000
        at = min(updated, now)
        return [
            FeaturePoint("btc_dominance", as_float(shares.get("btc"), self.name, "btc share"), at, at),
            FeaturePoint("eth_dominance", as_float(shares.get("eth"), self.name, "eth share"), at, at),
            FeaturePoint("total_market_cap", as_float(caps.get("usd"), self.name, "usd market cap"), at, at),
        ]
