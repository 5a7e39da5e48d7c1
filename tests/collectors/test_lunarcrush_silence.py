"""LunarCrush answering without the configured coins' figures (a coin left out, fields renamed) says so
in the source's health instead of passing as a good poll that stored nothing."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from mastertrade.engine.collectors.health import SourceState
from mastertrade.engine.collectors.lunarcrush import LunarCrushCollector
from mastertrade.engine.collectors.service import CollectorService
from mastertrade.errors import DataValidationError
from tests.collectors.helpers import NOW, client_for, settings
from tests.collectors.test_keyed_sources import KEY, LUNARCRUSH


async def collect(payload: Any) -> tuple[LunarCrushCollector, list[Any]]:
    collector = LunarCrushCollector(settings(lunarcrush_api_key=KEY))
    async with client_for(lambda request: httpx.Response(200, json=payload)) as client:
        return collector, await collector.collect(client, NOW)


async def test_a_configured_coin_missing_from_the_answer_is_a_problem_of_the_poll() -> None:
    collector, points = await collect(LUNARCRUSH)  # BTC and ETH are listed; SOL, configured too, is not
    assert {p.symbol for p in points} == {"BTC", "ETH"}
    assert collector.problems == ["SOL: no figures in the answer"]


async def test_renamed_fields_fail_the_poll_and_the_source_says_so(database: Any) -> None:
    renamed = copy.deepcopy(LUNARCRUSH)
    for coin in renamed["data"]:
        coin["galaxyScore"] = coin.pop("galaxy_score")
        coin["altRank"] = coin.pop("alt_rank")
        coin["sentimentPct"] = coin.pop("sentiment")
        coin["interactions24h"] = coin.pop("interactions_24h")
    with pytest.raises(DataValidationError, match="no figures for BTC, ETH, SOL"):
        await collect(renamed)

    collector = LunarCrushCollector(settings(lunarcrush_api_key=KEY))
    service = CollectorService(
        database,
        collector.settings,
        collectors=[collector],
        transport=httpx.MockTransport(lambda request: httpx.Response(200, json=renamed)),
        clock=lambda: NOW,
    )
    try:
        health = await service.poll(collector)
    finally:
        await service.close()
    assert health.state is SourceState.STALE and "no figures for BTC, ETH, SOL" in (health.reason or "")
    assert KEY not in (health.reason or "")
