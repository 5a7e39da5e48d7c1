"""``mt data sources`` (JSON and table), the source report with --refresh, and collector plugins."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from importlib.metadata import EntryPoint
from typing import Any

import httpx
import pytest

from mastertrade.engine.collectors import registry
from mastertrade.engine.collectors.base import Collector, FeaturePoint
from mastertrade.engine.collectors.fear_greed import FearGreedCollector
from mastertrade.engine.collectors.report import source_report
from mastertrade.engine.collectors.sim import SIM_SOURCE
from mastertrade.engine.collectors.store import FeatureStore
from mastertrade.errors import UserInputError
from tests.collectors.helpers import DAY, NOW, settings

KEY = "gn-secret-key-123456"


async def prepare() -> None:
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database
    from mastertrade.engine.collectors.health import SourceHealth, SourceState
    from mastertrade.engine.market.timeframes import now_ms

    db = await Database.open(load_settings())
    try:
        store = FeatureStore(db)
        await store.upsert(
            "fear_greed",
            [FeaturePoint("fear_greed", 61, NOW - DAY, NOW - DAY), FeaturePoint("fear_greed", 64, NOW, NOW)],
        )
        await store.upsert(SIM_SOURCE, [FeaturePoint("sentiment", 0.2, NOW, NOW, "BTC")])
        last = ({"name": "fear_greed", "symbol": "", "value": 64.0, "ts": NOW},)
        moment = now_ms()
        await store.save_health(
            SourceHealth(
                "fear_greed",
                SourceState.OK,
                since=moment,
                last_success=moment,
                last_attempt=moment,
                last_values=last,
            )
        )
    finally:
        await db.close()


def test_mt_data_sources_json_lists_every_source_without_keys(
    mt: Any, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MT_COLLECTORS__GLASSNODE_API_KEY", KEY)
    monkeypatch.setenv("MT_COLLECTORS__DISABLED", '["reddit"]')
    asyncio.run(prepare())

    report = mt.json("data", "sources")
    by_name = {item["source"]: item for item in report}
    assert list(by_name)[:3] == ["news", "reddit", "fear_greed"]
    assert by_name["fear_greed"]["state"] == "ok"
    assert by_name["fear_greed"]["last_values"] == [
        {"name": "fear_greed", "symbol": "", "value": 64.0, "ts": "2024-03-15T12:30:00Z"}
    ]
    assert by_name["fear_greed"]["series"][0]["rows"] == 2 and by_name["fear_greed"]["interval_s"] == 3600
    assert by_name["reddit"]["state"] == "disabled" and "collectors.disabled" in by_name["reddit"]["reason"]
    assert by_name["news"]["state"] == "stale" and by_name["news"]["reason"].startswith(
        'never collected: with [market] venue = "sim" the daemon collects only the simulated features'
    )
    assert by_name["glassnode"]["state"] == "stale" and by_name["glassnode"]["key_configured"] is True
    assert by_name["moralis"]["state"] == "disabled" and by_name["moralis"]["key_configured"] is False
    assert by_name["news"]["needs_key"] is False
    assert by_name[SIM_SOURCE]["state"] == "ok" and by_name[SIM_SOURCE]["series"][0]["symbol"] == "BTC"
    result = mt("data", "sources", "--json")
    assert KEY not in result.stdout and KEY not in result.stderr

    table = mt("data", "sources")
    assert table.exit_code == 0
    assert "fear_greed" in table.stdout and "fear_greed = 64" in table.stdout and "1 h" in table.stdout
    assert KEY not in table.stdout

    one = mt.json("data", "sources", "fear_greed", "sim")
    assert [item["source"] for item in one] == ["fear_greed", "sim"]
    bad = mt("data", "sources", "tarot")
    assert bad.exit_code == 2 and "unknown source 'tarot'" in bad.stderr
    assert json.loads(mt("data", "sources", "--json").stdout)  # one document, nothing else on stdout


@pytest.mark.parametrize("venue", ["sim", "replay"])
def test_a_source_never_collected_on_a_simulated_market_is_not_told_to_start_the_daemon(
    mt: Any, db_url: str, monkeypatch: pytest.MonkeyPatch, venue: str
) -> None:
    """On the simulated market the daemon derives only the sim source: "never collected yet: start the
    daemon" was said of news, fear_greed ... with the daemon running, which would never collect them."""
    monkeypatch.setenv("MT_MARKET__VENUE", venue)
    simulated = {item["source"]: item["reason"] for item in mt.json("data", "sources")}
    assert simulated["fear_greed"] == (
        f'never collected: with [market] venue = "{venue}" the daemon collects only the simulated'
        " features (source sim); `mt data sources --refresh` polls it once"
    )
    assert "start the daemon" not in mt("data", "sources").stdout
    monkeypatch.setenv("MT_MARKET__VENUE", "ccxt")
    live = {item["source"]: item["reason"] for item in mt.json("data", "sources")}
    assert live["fear_greed"] == "never collected yet: start the daemon, or run `mt data sources --refresh`"


async def test_refresh_polls_the_enabled_sources_once(database: Any) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.alternative.me":
            return httpx.Response(
                200,
                json={
                    "name": "Fear and Greed Index",
                    "data": [
                        {
                            "value": "33",
                            "value_classification": "Fear",
                            "timestamp": str((NOW - NOW % DAY) // 1000),
                        }
                    ],
                    "metadata": {"error": None},
                },
            )
        return httpx.Response(503)

    report = await source_report(
        database,
        settings(),
        names=["fear_greed", "mempool"],
        refresh=True,
        transport=httpx.MockTransport(answer),
    )
    states = {item["source"]: (item["state"], item["reason"]) for item in report}
    assert states["fear_greed"] == ("ok", None)
    assert states["mempool"][0] == "stale" and "HTTP 503" in states["mempool"][1]
    assert [item["source"] for item in report] == ["fear_greed", "mempool"]
    assert len(await FeatureStore(database).read("fear_greed", "fear_greed")) == 1
    with pytest.raises(UserInputError, match="unknown source 'nope'"):
        await source_report(database, settings(), names=["nope"])


def fear_greed_up_mempool_down(request: httpx.Request) -> httpx.Response:
    if request.url.host == "api.alternative.me":
        day = str((NOW - NOW % DAY) // 1000)
        return httpx.Response(200, json={"data": [{"value": "33", "timestamp": day}], "metadata": {}})
    return httpx.Response(503)


def test_mt_data_sources_refresh_lists_what_it_stored_and_exits_1_naming_a_failed_source(
    mt: Any, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mastertrade.engine.collectors import report

    mocked = functools.partial(
        report.source_report, transport=httpx.MockTransport(fear_greed_up_mempool_down)
    )
    monkeypatch.setattr(report, "source_report", mocked)

    result = mt("data", "sources", "fear_greed", "mempool", "--refresh", "--json")

    assert result.exit_code == 1
    by_name = {item["source"]: item for item in json.loads(result.stdout)}
    # The report is read after the refresh: the series holds the value this refresh stored.
    assert [series["rows"] for series in by_name["fear_greed"]["series"]] == [1]
    assert by_name["fear_greed"]["refreshed"] and by_name["mempool"]["refreshed"]
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("mt: error: 1 of 2 sources failed to refresh: mempool: HTTP 503")
    assert "fear_greed" not in error

    fine = mt("data", "sources", "fear_greed", "--refresh")
    assert fine.exit_code == 0 and "fear_greed = 33" in fine.stdout
    listed = mt("data", "sources", "mempool")  # no refresh: an old failure is shown, not an error
    assert listed.exit_code == 0 and "HTTP 503" in listed.stdout


class GoodPlugin(Collector):
    name = "onchain_plus"
    description = "a plugin source"

    async def collect(self, client: httpx.AsyncClient, now: int) -> list[FeaturePoint]:
        return [FeaturePoint("whatever", 1.0, now, now)]


class Impostor(FearGreedCollector):
    pass  # reuses the built-in name "fear_greed"


def entry(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=registry.ENTRY_POINT_GROUP)


def test_plugins_are_loaded_from_entry_points_and_broken_ones_skipped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    here = __name__
    points = [
        entry("good", f"{here}:GoodPlugin"),
        entry("broken", "no_such_module_xyz:Thing"),
        entry("not_a_collector", "json:dumps"),
        entry("impostor", f"{here}:Impostor"),
    ]
    monkeypatch.setattr(
        registry, "entry_points", lambda group: points if group == registry.ENTRY_POINT_GROUP else []
    )
    with caplog.at_level(logging.WARNING):
        classes = registry.collector_classes()
    names = [cls.name for cls in classes]
    assert names[: len(registry.BUILTIN)] == [cls.name for cls in registry.BUILTIN]
    assert names[len(registry.BUILTIN) :] == ["onchain_plus"]
    assert (
        "broken failed to load" in caplog.text
        and "not a Collector" in caplog.text
        and "reuses the source name" in caplog.text
    )
    collectors = registry.build_collectors(settings())
    assert [c.name for c in collectors][-1] == "onchain_plus"
