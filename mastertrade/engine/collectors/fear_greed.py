"""The Crypto Fear & Greed Index of alternative.me (public API, no key).

``GET https://api.alternative.me/fng/?limit=N&format=json`` answers
``{"name": "Fear and Greed Index", "data": [{"value": "40", "value_classification": "Fear",
"timestamp": "1551157200", "time_until_update": "68499"}, ...], "metadata": {"error": null}}``, newest
first, one value a day stamped at 00:00 UTC (strings, seconds). ``limit=0`` returns the whole history
(since February 2018): the first poll backfills it, later polls fetch the last week, or every day since
the last successful poll when that is longer ago (a daemon that was down).

The value of day D is computed from the market up to D's start and published then, so ``ts`` and
``published_at`` are both D 00:00 UTC.
"""

from __future__ import annotations

from typing import Any

import httpx

from mastertrade.engine.collectors.base import (
    HOUR_S,
    Collector,
    FeaturePoint,
    as_float,
    days_to_fetch,
    epoch_ms,
    expect,
    get_json,
)
from mastertrade.errors import OperationFailed

URL = "https://api.alternative.me/fng/"
FEATURE = "fear_greed"
RECENT = 7


class FearGreedCollector(Collector):
    name = "fear_greed"
    description = "Crypto Fear & Greed Index, daily, 0 (extreme fear) .. 100 (extreme greed) (alternative.me)"
    default_interval_s = HOUR_S

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.backfilled = False
        self.polled_at: int | None = None

    async def collect(self, client: httpx.AsyncClient, now: int) -> list[FeaturePoint]:
        limit = days_to_fetch(RECENT, self.polled_at, now) if self.backfilled else 0
        payload = await get_json(client, URL, params={"limit": limit, "format": "json"})
        expect(isinstance(payload, dict), self.name, "not a JSON object")
        error = (payload.get("metadata") or {}).get("error")
        if error:
            raise OperationFailed(f"alternative.me: {error}")
        data = payload.get("data")
        expect(isinstance(data, list), self.name, "data is not a list")
        expect(bool(data), self.name, "data is empty")
        points = []
        for index, row in enumerate(data):
            expect(isinstance(row, dict), self.name, f"data[{index}] is not an object")
            value = as_float(row.get("value"), self.name, f"data[{index}].value")
            expect(0 <= value <= 100, self.name, f"data[{index}].value {value} is outside 0..100")
            ts = epoch_ms(row.get("timestamp"), self.name, f"data[{index}].timestamp")
            if ts <= now:
                points.append(FeaturePoint(FEATURE, value, ts, ts))
        self.backfilled = True
        self.polled_at = now
        return points

    def dump_state(self) -> dict[str, Any]:
        return {"backfilled": self.backfilled, "polled_at": self.polled_at}

    def load_state(self, state: dict[str, Any]) -> None:
        self.backfilled = state.get("backfilled") is True
        polled_at = state.get("polled_at")
        self.polled_at = polled_at if isinstance(polled_at, int) else None
