"""Glassnode on-chain metrics (needs ``collectors.glassnode_api_key``; disabled without it).

``GET https://api.glassnode.com/v1/metrics/<path>?a=BTC&i=24h&s=<unix seconds>`` with the key in the
``X-Api-Key`` header answers ``[{"t": 1700006400, "v": 912345}, ...]``: one value per day, ``t`` the
day's start (seconds). Metrics: ``addresses/active_count`` -> ``active_addresses`` and
``transactions/count`` -> ``tx_count``, per asset in ``glassnode_assets``. A day's value is published at
the day's end. The first poll backfills a year; later ones the last week. An answer without any value
fails that metric (named beside the source's state; the whole poll fails when every metric does).
"""

from __future__ import annotations

from typing import Any

import httpx

from mastertrade.engine.collectors.base import (
    DAY_MS,
    HOUR_S,
    Collector,
    FeaturePoint,
    as_float,
    days_to_fetch,
    epoch_ms,
    expect,
    get_json,
)
from mastertrade.utc import from_s

BASE = "https://api.glassnode.com/v1/metrics"
METRICS = {"addresses/active_count": "active_addresses", "transactions/count": "tx_count"}
BACKFILL_DAYS = 365
RECENT_DAYS = 7


class GlassnodeCollector(Collector):
    name = "glassnode"
    description = "Active addresses and transaction count per day (Glassnode, needs a key)"
    default_interval_s = 6 * HOUR_S
    key_setting = "glassnode_api_key"

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.backfilled = False
        self.polled_at: int | None = None

    async def collect(self, client: httpx.AsyncClient, now: int) -> list[FeaturePoint]:
        days = days_to_fetch(RECENT_DAYS, self.polled_at, now) if self.backfilled else BACKFILL_DAYS
        since = (now - days * DAY_MS) // 1000
        parts = [
            (f"{asset} {path}", lambda asset=asset, path=path: self._metric(client, path, asset, since, now))
            for asset in self.settings.glassnode_assets
            for path in METRICS
        ]
        points = await self.gather(parts)
        self.backfilled = True
        if not self.problems:  # a part that failed is asked for from the same day again next time
            self.polled_at = now
        return points

    async def _metric(
        self, client: httpx.AsyncClient, path: str, asset: str, since: int, now: int
    ) -> list[FeaturePoint]:
        rows = await get_json(
            client,
            f"{BASE}/{path}",
            params={"a": asset, "i": "24h", "s": since},
            headers={"X-Api-Key": self.secret()},
        )
        expect(isinstance(rows, list), self.name, f"{path} is not a list")
        # An answer without a single value (an asset Glassnode does not cover, a metric it stopped
        # computing) would otherwise pass for a good poll with nothing to store, for ever.
        expect(
            any(isinstance(row, dict) and row.get("v") is not None for row in rows),
            self.name,
            f"no values for {asset.upper()} {path} since {from_s(since).date()}",
        )
        points = []
        for index, row in enumerate(rows):
            expect(isinstance(row, dict), self.name, f"{path}[{index}] is not an object")
            if row.get("v") is None:
                continue  # Glassnode leaves v null for a day it has not computed yet
            day = epoch_ms(row.get("t"), self.name, f"{path}[{index}].t")
            value = as_float(row["v"], self.name, f"{path}[{index}].v")
            if day + DAY_MS <= now:
                points.append(FeaturePoint(METRICS[path], value, day, day + DAY_MS, asset.upper()))
        return points

    def dump_state(self) -> dict[str, Any]:
        return {"backfilled": self.backfilled, "polled_at": self.polled_at}

    def load_state(self, state: dict[str, Any]) -> None:
        self.backfilled = state.get("backfilled") is True
        polled_at = state.get("polled_at")
        self.polled_at = polled_at if isinstance(polled_at, int) else None
