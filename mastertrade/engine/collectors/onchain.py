"""Bitcoin on-chain activity from public endpoints, no key: mempool.space and blockchain.com.

mempool.space (``https://mempool.space/api``):

- ``GET /v1/fees/recommended`` -> ``{"fastestFee": 12, "halfHourFee": 10, "hourFee": 8,
  "economyFee": 4, "minimumFee": 2}`` (sat/vB): features ``fee_fast`` and ``fee_hour``.
- ``GET /mempool`` -> ``{"count": 52134, "vsize": 31840211, "total_fee": 9384121, "fee_histogram":
  [[fee_rate, vsize], ...]}``: features ``mempool_tx`` (transactions waiting) and ``mempool_vsize_mb``.
- ``GET /v1/mining/hashrate/1m`` -> ``{"hashrates": [{"timestamp": 1700006400, "avgHashrate":
  4.6e20}, ...], "difficulty": [...], "currentHashrate": 4.7e20, "currentDifficulty": 6.2e13}``:
  feature ``hash_rate`` in EH/s, one value a day; after a downtime longer than a month the poll asks for
  the period (3m, 6m, 1y, 2y, 3y) that reaches back to its last successful one.

Snapshots (fees, mempool) describe the moment of the poll: ``ts = published_at = now``. A day's average
hash rate is known once the day is over: ``ts`` is the day, ``published_at`` its end; the running day
is left out.

blockchain.com (``GET https://api.blockchain.info/stats``) -> ``{"timestamp": 1700000000000,
"market_price_usd": 37000.5, "hash_rate": 4.6e11, "n_tx": 512345, "total_fees_btc": 3412000000,
"n_blocks_mined": 144, "minutes_between_blocks": 9.8, "difficulty": 6.2e13, "trade_volume_usd": ...,
...}`` over the last 24 hours (hash_rate in GH/s, fees in satoshis): features ``tx_count_24h``,
``fees_btc_24h`` and ``hash_rate_24h`` (EH/s), stamped with the payload's own ``timestamp``.
"""

from __future__ import annotations

from typing import Any

import httpx

from mastertrade.engine.collectors.base import (
    DAY_MS,
    HOUR_S,
    MINUTE_S,
    Collector,
    FeaturePoint,
    as_float,
    days_to_fetch,
    epoch_ms,
    expect,
    get_json,
)

MEMPOOL = "https://mempool.space/api"
BLOCKCHAIN_STATS = "https://api.blockchain.info/stats"
BTC = "BTC"
SATS = 100_000_000


HASH_RATE_PERIODS = (("1m", 30), ("3m", 91), ("6m", 182), ("1y", 365), ("2y", 730), ("3y", 1095))
"""mempool.space's periods of daily hash rates and the days each covers, shortest first."""


class MempoolCollector(Collector):
    name = "mempool"
    description = "Bitcoin fees, mempool size and daily hash rate (mempool.space)"
    default_interval_s = 5 * MINUTE_S

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.hash_rate_polled_at: int | None = None

    async def collect(self, client: httpx.AsyncClient, now: int) -> list[FeaturePoint]:
        return await self.gather(
            [
                ("fees", lambda: self._fees(client, now)),
                ("mempool", lambda: self._mempool(client, now)),
                ("hash rate", lambda: self._hash_rate(client, now)),
            ]
        )

    async def _fees(self, client: httpx.AsyncClient, now: int) -> list[FeaturePoint]:
        fees = await get_json(client, f"{MEMPOOL}/v1/fees/recommended")
        expect(isinstance(fees, dict), self.name, "fees are not an object")
        return [
            FeaturePoint(
                "fee_fast", as_float(fees.get("fastestFee"), self.name, "fastestFee"), now, now, BTC
            ),
            FeaturePoint("fee_hour", as_float(fees.get("hourFee"), self.name, "hourFee"), now, now, BTC),
        ]

    async def _mempool(self, client: httpx.AsyncClient, now: int) -> list[FeaturePoint]:
        mempool = await get_json(client, f"{MEMPOOL}/mempool")
        expect(isinstance(mempool, dict), self.name, "mempool is not an object")
        count = as_float(mempool.get("count"), self.name, "mempool count")
        vsize = as_float(mempool.get("vsize"), self.name, "mempool vsize")
        return [
            FeaturePoint("mempool_tx", count, now, now, BTC),
            FeaturePoint("mempool_vsize_mb", vsize / 1e6, now, now, BTC),
        ]

    async def _hash_rate(self, client: httpx.AsyncClient, now: int) -> list[FeaturePoint]:
        days = days_to_fetch(0, self.hash_rate_polled_at, now)
        period = next((name for name, span in HASH_RATE_PERIODS if span >= days), HASH_RATE_PERIODS[-1][0])
        payload = await get_json(client, f"{MEMPOOL}/v1/mining/hashrate/{period}")
        expect(isinstance(payload, dict), self.name, "hash rate is not an object")
        rows = payload.get("hashrates")
        expect(isinstance(rows, list), self.name, "hashrates is not a list")
        points = []
        for index, row in enumerate(rows):
            expect(isinstance(row, dict), self.name, f"hashrates[{index}] is not an object")
            day = epoch_ms(row.get("timestamp"), self.name, f"hashrates[{index}].timestamp")
            day -= day % DAY_MS
            rate = as_float(row.get("avgHashrate"), self.name, f"hashrates[{index}].avgHashrate")
            if day + DAY_MS <= now:
                points.append(FeaturePoint("hash_rate", rate / 1e18, day, day + DAY_MS, BTC))
        self.hash_rate_polled_at = now
        return points

    def dump_state(self) -> dict[str, Any]:
        return {"hash_rate_polled_at": self.hash_rate_polled_at}

    def load_state(self, state: dict[str, Any]) -> None:
        polled_at = state.get("hash_rate_polled_at")
        self.hash_rate_polled_at = polled_at if isinstance(polled_at, int) else None


class BlockchainStatsCollector(Collector):
    name = "blockchain"
    description = "Bitcoin transactions, fees and hash rate over the last 24 h (blockchain.com stats)"
    default_interval_s = HOUR_S

    async def collect(self, client: httpx.AsyncClient, now: int) -> list[FeaturePoint]:
        stats: Any = await get_json(client, BLOCKCHAIN_STATS)
        expect(isinstance(stats, dict), self.name, "stats are not an object")
        stamp = stats.get("timestamp")
        ts = epoch_ms(stamp, self.name, "timestamp") if stamp is not None else now
        ts = min(ts, now)
        return [
            FeaturePoint("tx_count_24h", as_float(stats.get("n_tx"), self.name, "n_tx"), ts, now, BTC),
            FeaturePoint(
                "fees_btc_24h",
                as_float(stats.get("total_fees_btc"), self.name, "total_fees_btc") / SATS,
                ts,
                now,
                BTC,
            ),
            FeaturePoint(
                "hash_rate_24h", as_float(stats.get("hash_rate"), self.name, "hash_rate") / 1e9, ts, now, BTC
            ),
        ]
