"""A daemon down for longer than a source's usual window fetches every day it missed on its first poll
back, instead of the last week only (the days in between were lost for good)."""

from __future__ import annotations

from datetime import date, timedelta

import httpx

from mastertrade.engine.collectors.fear_greed import FearGreedCollector
from mastertrade.engine.collectors.glassnode import GlassnodeCollector
from mastertrade.engine.collectors.macro import MacroCollector
from mastertrade.utc import from_ms
from tests.collectors.helpers import DAY, NOW, Recorder, client_for, settings

TODAY = NOW - NOW % DAY
LATER = NOW + 30 * DAY  # the daemon was down for 30 days
FNG = {"data": [{"value": "40", "timestamp": str(TODAY // 1000)}], "metadata": {"error": None}}


async def test_fear_greed_asks_for_every_day_since_its_last_poll() -> None:
    server = Recorder({"/fng/": httpx.Response(200, json=FNG)})
    collector = FearGreedCollector(settings())
    async with client_for(server) as client:
        await collector.collect(client, NOW)  # the backfill
        await collector.collect(client, NOW + DAY // 2)  # a usual poll: the last week
        restarted = FearGreedCollector(settings())
        restarted.load_state(collector.dump_state())
        await restarted.collect(client, LATER)
    limits = [int(request.url.params["limit"]) for request in server.requests]
    assert limits[:2] == [0, 7]
    assert limits[2] >= 31


async def test_macro_asks_from_its_last_poll() -> None:
    csv = "observation_date,SP500\n2024-03-14,5150.48\n"
    server = Recorder({"fred.stlouisfed.org": httpx.Response(200, text=csv)})
    collector = MacroCollector(settings(macro_series={"spx": "fred:SP500"}))
    async with client_for(server) as client:
        await collector.collect(client, NOW)
        restarted = MacroCollector(collector.settings)
        restarted.load_state(collector.dump_state())
        await restarted.collect(client, LATER)
    start = date.fromisoformat(server.requests[-1].url.params["cosd"])
    assert start <= from_ms(NOW).date() - timedelta(days=1)


async def test_glassnode_asks_from_its_last_poll() -> None:
    rows = [{"t": (TODAY - DAY) // 1000, "v": 1.0}]
    server = Recorder({"": httpx.Response(200, json=rows)})
    collector = GlassnodeCollector(settings(glassnode_api_key="k" * 32, glassnode_assets=["BTC"]))
    async with client_for(server) as client:
        await collector.collect(client, NOW)
        restarted = GlassnodeCollector(collector.settings)
        restarted.load_state(collector.dump_state())
        await restarted.collect(client, LATER)
    since_ms = int(server.requests[-1].url.params["s"]) * 1000
    assert since_ms <= NOW - DAY
