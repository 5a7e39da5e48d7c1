"""A value a source revises is new information from the poll that saw it: its publication time is never
earlier than that poll, whatever time the source stamps it with (no lookahead through a revision)."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np

from mastertrade.engine.collectors.align import align_series
from mastertrade.engine.collectors.fear_greed import FearGreedCollector
from mastertrade.engine.collectors.glassnode import GlassnodeCollector
from mastertrade.engine.collectors.service import CollectorService
from tests.collectors.helpers import DAY, HOUR, NOW, settings

TODAY = NOW - NOW % DAY


async def test_a_revised_daily_value_is_published_when_the_revision_was_seen(database: Any) -> None:
    answers = {"value": "40"}
    clock = {"now": NOW}

    def answer(request: httpx.Request) -> httpx.Response:
        row = {"value": answers["value"], "timestamp": str(TODAY // 1000)}
        return httpx.Response(200, json={"data": [row], "metadata": {"error": None}})

    collector = FearGreedCollector(settings())
    service = CollectorService(
        database,
        collector.settings,
        collectors=[collector],
        transport=httpx.MockTransport(answer),
        clock=lambda: clock["now"],
    )
    try:
        await service.poll(collector)  # 12:30: today's value is 40, published at 00:00 as the source says
        clock["now"] = NOW + 3 * HOUR
        await service.poll(collector)  # 15:30: the same value again changes nothing
        answers["value"] = "60"
        clock["now"] = NOW + 5 * HOUR
        await service.poll(collector)  # 17:30: the source revised today's value
    finally:
        await service.close()
    series = await service.store.read("fear_greed", "fear_greed")
    assert series.values.tolist() == [60.0]
    assert series.published_at.tolist() == [NOW + 5 * HOUR]
    # A bar opening at 13:00 could not have seen 60; one opening after 17:30 can.
    bars = np.array([TODAY + 13 * HOUR, TODAY + 18 * HOUR], dtype=np.int64)
    seen = align_series(series, bars, max_age_ms=None)
    assert np.isnan(seen[0]) and seen[1] == 60.0


async def test_a_value_that_appears_late_is_published_when_it_appeared(database: Any) -> None:
    """Glassnode stamps a day's figure with the day's end, but leaves it null until it has computed it:
    a figure that was still missing at one poll was not known at its stamp, only at the poll that got it.
    Values a source never had the chance to show (the first poll's history, days the daemon was down
    for) keep the source's stamp."""
    yesterday = {"t": (TODAY - DAY) // 1000, "v": None}
    clock = {"now": NOW}

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[{"t": (TODAY - 2 * DAY) // 1000, "v": 912_345}, yesterday])

    collector = GlassnodeCollector(
        settings(glassnode_api_key="k" * 32, glassnode_assets=["BTC"], disabled=[])
    )
    service = CollectorService(
        database,
        collector.settings,
        collectors=[collector],
        transport=httpx.MockTransport(answer),
        clock=lambda: clock["now"],
    )
    try:
        await service.poll(collector)  # 12:30: the day before yesterday is there, yesterday still null
        yesterday["v"] = 934_001
        clock["now"] = NOW + 2 * HOUR
        await service.poll(collector)  # 14:30: yesterday's figure has appeared
    finally:
        await service.close()
    series = await service.store.read("glassnode", "active_addresses", "BTC")
    assert series.ts.tolist() == [TODAY - 2 * DAY, TODAY - DAY]
    assert series.published_at.tolist() == [TODAY - DAY, NOW + 2 * HOUR]
    bars = np.array([TODAY + 13 * HOUR, TODAY + 15 * HOUR], dtype=np.int64)
    assert align_series(series, bars, max_age_ms=None).tolist() == [912_345.0, 934_001.0]
