"""mempool.space's daily hash rate comes in fixed periods (1m, 3m, 6m, 1y, 2y, 3y): after a longer
downtime than a month the poll asks for a period that reaches back to its last successful one."""

from __future__ import annotations

import httpx
import pytest

from mastertrade.engine.collectors.onchain import MempoolCollector
from tests.collectors.helpers import DAY, NOW, Recorder, client_for, settings

TODAY = NOW - NOW % DAY


@pytest.mark.parametrize(
    ("down_days", "period"), [(None, "1m"), (2, "1m"), (45, "3m"), (200, "1y"), (5000, "3y")]
)
async def test_the_period_reaches_back_to_the_last_poll(down_days: int | None, period: str) -> None:
    rows = {"hashrates": [{"timestamp": (TODAY - DAY) // 1000, "avgHashrate": 6.1e20}]}
    server = Recorder({"/api/v1/mining/hashrate/": httpx.Response(200, json=rows), "": httpx.Response(503)})
    collector = MempoolCollector(settings())
    if down_days is not None:
        collector.load_state({"hash_rate_polled_at": NOW - down_days * DAY})
    async with client_for(server) as client:
        await collector.collect(client, NOW)
    asked = [path for path in server.paths() if "/hashrate/" in path]
    assert asked == [f"/api/v1/mining/hashrate/{period}"]
    assert collector.dump_state() == {"hash_rate_polled_at": NOW}
