"""A Glassnode metric that answers no value for the days asked (an asset it does not cover, a metric it
stopped computing) says so in the source's health instead of passing for a good poll."""

from __future__ import annotations

import httpx
import pytest

from mastertrade.engine.collectors.glassnode import GlassnodeCollector
from mastertrade.errors import DataValidationError
from tests.collectors.helpers import DAY, NOW, client_for, settings

TODAY = NOW - NOW % DAY
KEY = "k" * 32


@pytest.mark.parametrize(
    "answer", [[], [{"t": (TODAY - DAY) // 1000, "v": None}, {"t": TODAY // 1000, "v": None}]]
)
async def test_no_value_at_all_fails_the_poll_naming_the_metric(answer: list[object]) -> None:
    collector = GlassnodeCollector(settings(glassnode_api_key=KEY, glassnode_assets=["XYZ"]))
    async with client_for(lambda request: httpx.Response(200, json=answer)) as client:
        with pytest.raises(
            DataValidationError,
            match="glassnode: unexpected payload: no values for XYZ addresses/active_count since",
        ):
            await collector.collect(client, NOW)


async def test_one_metric_without_values_is_named_beside_the_others() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("transactions/count"):
            return httpx.Response(200, json=[])
        return httpx.Response(200, json=[{"t": (TODAY - DAY) // 1000, "v": 934_001}])

    collector = GlassnodeCollector(settings(glassnode_api_key=KEY, glassnode_assets=["BTC"]))
    async with client_for(answer) as client:
        points = await collector.collect(client, NOW)
    assert [(p.name, p.value) for p in points] == [("active_addresses", 934_001)]
    assert len(collector.problems) == 1 and "no values for BTC transactions/count" in collector.problems[0]
    assert KEY not in collector.problems[0]
