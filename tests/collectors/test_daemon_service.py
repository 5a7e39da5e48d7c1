"""The collectors inside the daemon: on the simulated market they derive live simulated features from
the bars the market feed stores, publish state changes on the bus, and show in ``GET /v1/status``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mastertrade.config import load_settings
from mastertrade.engine.api.routes_status import source_infos
from mastertrade.engine.collectors.daemon_service import CollectorsService
from mastertrade.engine.collectors.service import CollectorService
from mastertrade.engine.collectors.sim import SIM_SOURCE
from mastertrade.engine.collectors.store import FeatureStore
from mastertrade.engine.daemon import Daemon
from mastertrade.engine.market.sim import simulate
from mastertrade.engine.market.store import CandleStore, SeriesKey, rows_from_frame
from mastertrade.engine.market.timeframes import now_ms
from tests.daemon.fakes import FakeVenue, RecordingNotifier


async def wait_for(condition: Any, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if await condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_daemon_runs_the_simulated_source_and_reports_it(db_url: str) -> None:
    settings = load_settings()
    settings = settings.model_copy(
        update={
            "market": settings.market.model_copy(
                update={"symbols": ["BTC/USDT", "ETH/USDT"], "timeframe": "1h"}
            )
        }
    )
    venue = FakeVenue("fake", simulated=True)
    daemon = Daemon(settings, venue=venue, notifier=RecordingNotifier(), serve_api=False)
    # The candles the market feed would have stored: 60 days up to the current hour.
    end = now_ms() // 3_600_000 * 3_600_000
    ctx = await daemon.start()
    try:
        store = CandleStore(ctx.db)
        for symbol in settings.market.symbols:
            await store.upsert(
                SeriesKey("fake", symbol, "1h"), rows_from_frame(simulate(symbol, "1h", 24 * 60, 7, end=end))
            )
        service = ctx.find(CollectorService)
        assert service is not None and [c.name for c in service.collectors] == [SIM_SOURCE]
        await service.poll(service.collectors[0])

        async def stored() -> bool:
            return bool(await FeatureStore(ctx.db).sources_for("fear_greed"))

        await wait_for(stored)
        sentiment = await FeatureStore(ctx.db).read(SIM_SOURCE, "sentiment", "BTC")
        assert len(sentiment) > 0 and sentiment.published_at.max() <= now_ms()
        infos = source_infos(ctx)
        assert [(info.source, info.state) for info in infos] == [(SIM_SOURCE, "ok")]
        assert ctx.state.services["collectors"].state == "running"
    finally:
        await daemon.stop()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_collectors_switched_off_do_not_run(db_url: str) -> None:
    settings = load_settings()
    settings = settings.model_copy(
        update={"collectors": settings.collectors.model_copy(update={"enabled": False})}
    )
    daemon = Daemon(settings, venue=FakeVenue(), notifier=RecordingNotifier(), serve_api=False)
    ctx = await daemon.start()
    try:
        await wait_for(lambda: _done(ctx))
        assert ctx.find(CollectorService) is None and source_infos(ctx) == []
    finally:
        await daemon.stop()


async def _done(ctx: Any) -> bool:
    return ctx.state.services["collectors"].state not in ("starting", "running")


def test_the_service_is_registered_with_the_daemon() -> None:
    from mastertrade.engine.services import build_services

    names = [service.name for service in build_services(None)]  # type: ignore[arg-type]
    assert "collectors" in names and isinstance(CollectorsService(), CollectorsService)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_failing_source_raises_an_alert_and_shows_in_the_status(db_url: str) -> None:
    import httpx

    from mastertrade.engine.alerts.service import AlertService
    from mastertrade.engine.api.routes_status import build_status

    settings = load_settings()
    only = settings.collectors.model_copy(
        update={
            "disabled": ["news", "reddit", "mempool", "blockchain", "whales", "macro", "coingecko_global"]
        }
    )
    settings = settings.model_copy(update={"collectors": only})
    transport = httpx.MockTransport(lambda request: httpx.Response(503, text="maintenance"))
    daemon = Daemon(
        settings,
        venue=FakeVenue("binance", simulated=False),
        notifier=RecordingNotifier(),
        serve_api=False,
        services=lambda ctx: [AlertService(), CollectorsService(transport=transport)],
    )
    ctx = await daemon.start()
    try:
        subscription = ctx.bus.subscribe({"alert.raised", "collector.state"}, name="test")
        seen: list[Any] = []

        async def alerted() -> bool:
            while (event := subscription.get_nowait()) is not None:
                seen.append(event)
            return any(event.type == "alert.raised" for event in seen)

        await wait_for(alerted)
        state = next(event for event in seen if event.type == "collector.state")
        assert (state.source, state.previous, state.state) == ("fear_greed", None, "stale")
        alert = next(event for event in seen if event.type == "alert.raised")
        assert alert.title == "Data source fear_greed is stale" and "HTTP 503" in alert.body
        report = await build_status(ctx)
        sources = {info.source: info for info in report.sources}
        assert sources["fear_greed"].state == "stale" and sources["fear_greed"].failures >= 1
        assert sources["news"].state == "disabled" and sources["glassnode"].state == "disabled"
        assert ctx.state.services["collectors"].state == "running"  # a failing source is not a crash
    finally:
        await daemon.stop()
