"""LunarCrush social metrics (needs ``collectors.lunarcrush_api_key``; disabled without it).

``GET https://lunarcrush.com/api4/public/coins/list/v2`` with ``Authorization: Bearer <key>`` answers
``{"config": {"sort": ..., "generated": 1700000000}, "data": [{"id": 1, "symbol": "BTC", "name":
"Bitcoin", "price": 37012.5, "galaxy_score": 68.2, "alt_rank": 12, "sentiment": 79,
"interactions_24h": 123456789, "social_dominance": 22.5, ...}, ...]}``. For every symbol in
``symbol_aliases`` the collector stores ``galaxy_score`` (0..100, LunarCrush's blend of social and market
activity), ``alt_rank`` (1 is best), ``social_sentiment`` (% of positive posts) and ``interactions_24h``.
A configured coin without any of them in the answer is a problem of the poll (shown beside its ``ok``);
when no configured coin has one (the fields were renamed), the poll fails.
"""

from __future__ import annotations

import httpx

from mastertrade.engine.collectors.base import MINUTE_S, Collector, FeaturePoint, as_float, expect, get_json
from mastertrade.errors import DataValidationError

URL = "https://lunarcrush.com/api4/public/coins/list/v2"
FIELDS = {
    "galaxy_score": "galaxy_score",
    "alt_rank": "alt_rank",
    "sentiment": "social_sentiment",
    "interactions_24h": "interactions_24h",
}


class LunarCrushCollector(Collector):
    name = "lunarcrush"
    description = (
        "Galaxy Score, AltRank, social sentiment and interactions per coin (LunarCrush, needs a key)"
    )
    default_interval_s = 30 * MINUTE_S
    key_setting = "lunarcrush_api_key"

    async def collect(self, client: httpx.AsyncClient, now: int) -> list[FeaturePoint]:
        payload = await get_json(client, URL, headers={"Authorization": f"Bearer {self.secret()}"})
        expect(isinstance(payload, dict) and isinstance(payload.get("data"), list), self.name, "no data list")
        wanted = {symbol.upper() for symbol in self.settings.symbol_aliases}
        points = []
        for index, coin in enumerate(payload["data"]):
            if not isinstance(coin, dict) or str(coin.get("symbol", "")).upper() not in wanted:
                continue
            symbol = str(coin["symbol"]).upper()
            for field, feature in FIELDS.items():
                if coin.get(field) is not None:
                    value = as_float(coin[field], self.name, f"data[{index}].{field}")
                    points.append(FeaturePoint(feature, value, now, now, symbol))
        # A coin left out of the answer, or fields LunarCrush renamed, would otherwise pass for a good
        # poll that had nothing to store: the source would stay "ok" while its series stopped.
        missing = sorted(wanted - {point.symbol for point in points})
        if wanted and len(missing) == len(wanted):
            raise DataValidationError(f"{self.name}: no figures for {', '.join(missing)} in the answer")
        self.problems += [f"{symbol}: no figures in the answer" for symbol in missing]
        return points
