"""Whale transactions above ``[collectors] whale_threshold_usd`` alert out of the box: the collector
service publishes a ``WhaleSpotted`` per new block with one, and the built-in ``whale`` rule (on by
default) turns it into an alert."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest

from mastertrade.config import AlertsSettings
from mastertrade.engine.alerts.rules import EventRule, RuleSet
from mastertrade.engine.collectors.events import WhaleSpotted
from mastertrade.engine.collectors.service import CollectorService
from mastertrade.engine.collectors.whales import WhaleCollector
from tests.collectors.helpers import NOW, settings
from tests.collectors.test_public_sources import BLOCK_1, BLOCK_2


def chain(latest: dict[str, Any]) -> httpx.MockTransport:
    blocks = {"000b2": BLOCK_2, "000b1": BLOCK_1}

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/ticker":
            return httpx.Response(200, json={"USD": {"last": 70000.0}})
        if path == "/latestblock":
            return httpx.Response(200, json={"hash": latest["hash"], "height": latest["height"]})
        if path.startswith("/rawblock/"):
            return httpx.Response(200, json=blocks[path.rsplit("/", 1)[1]])
        return httpx.Response(404)

    return httpx.MockTransport(answer)


async def spotted(database: Any, threshold: float) -> list[Any]:
    events: list[Any] = []
    collector = WhaleCollector(settings(whale_threshold_usd=threshold))
    service = CollectorService(
        database,
        collector.settings,
        collectors=[collector],
        transport=chain(BLOCK_2),
        on_event=events.append,
        clock=lambda: NOW,
        rng=random.Random(1),
    )
    await service.start()
    try:
        await service.poll(collector)
    finally:
        await service.close()
    return [event for event in events if isinstance(event, WhaleSpotted)]


async def test_a_whale_above_the_threshold_is_published_and_alerts_by_default(database: Any) -> None:
    (whale,) = await spotted(database, 1_000_000)
    assert (whale.symbol, whale.count, whale.block_ts) == ("BTC", 2, NOW - 120_000)
    assert whale.max_usd == pytest.approx(109 * 70_000) and whale.threshold_usd == 1_000_000
    assert "whale" in AlertsSettings().events  # on out of the box
    rules = RuleSet([EventRule(name) for name in AlertsSettings().events])
    (alert,) = rules.evaluate(whale)
    assert alert.rule == "whale" and alert.title == "Whale transaction: $7,630,000 BTC"
    assert "2 transactions moved $9,380,000" in alert.body and "above $1,000,000" in alert.body
    assert alert.dedupe_key == f"whale:BTC:{NOW - 120_000}"


async def test_nothing_is_published_below_the_threshold(database: Any) -> None:
    assert await spotted(database, 10_000_000) == []
