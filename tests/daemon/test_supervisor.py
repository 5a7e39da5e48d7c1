"""The in-process engine: the market feed stores and publishes, crashed services come back with
backoff while the daemon keeps serving, and a stop lets running work finish (or cancels it at the
deadline)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mastertrade.config import Settings
from mastertrade.engine.events import CandleClosed, ServiceStateChanged
from mastertrade.engine.kernel.context import EngineContext, ServiceStopping
from mastertrade.engine.market.store import SeriesKey
from mastertrade.errors import VenueUnavailable
from tests.daemon.conftest import Engine, core_daemon
from tests.daemon.fakes import HOUR, T0, closed_ts, eventually, wait_for


@pytest.fixture
def settings(sqlite_settings: Settings) -> Settings:
    return sqlite_settings


async def test_the_market_feed_stores_closed_bars_before_announcing_them(engine: Engine) -> None:
    bus = engine.ctx.bus
    seen = bus.subscribe({"price", "candle"})
    stored_when_announced: list[bool] = []

    async def watch() -> None:
        async for event in seen:
            if isinstance(event, CandleClosed):
                # Read as soon as the event arrives: the announced bar must already be in the store
                # (later bars may be there too when this watcher runs late on a busy machine).
                frame = await engine.ctx.candles.read(SeriesKey("fake", event.symbol, "1h"))
                stamps = frame.index.as_unit("ms").asi8.tolist()
                stored_when_announced.append(event.ts in stamps)

    watcher = asyncio.create_task(watch())
    engine.venue.bar("BTC/USDT", T0, 100.0)
    engine.venue.bar("BTC/USDT", T0, 101.0, closed=True)
    engine.venue.bar("BTC/USDT", T0 + HOUR, 102.0, closed=True)
    await wait_for(lambda: len(stored_when_announced) == 2)
    watcher.cancel()
    assert stored_when_announced == [True, True]
    frame = await engine.ctx.candles.read(SeriesKey("fake", "BTC/USDT", "1h"))
    assert frame["close"].tolist() == [101.0, 102.0]
    last = engine.ctx.state.last_candles["BTC/USDT"]
    assert last.price == 102.0 and last.closed_ts == T0 + HOUR
    assert bus.stats.published["price.tick"] == 3 and bus.stats.published["candle.closed"] == 2


async def test_a_restarted_market_feed_starts_after_the_newest_stored_bar(engine: Engine) -> None:
    """The venue is told where each symbol's stored bars end, so it can fill what closed meanwhile:
    at the first start nothing is stored; after a crash, the bar the feed stored last."""
    await wait_for(lambda: engine.venue.streams == 1)
    engine.venue.bar("BTC/USDT", T0, 101.0, closed=True)
    await wait_for(lambda: closed_ts(engine.ctx, "BTC/USDT") == T0)
    engine.venue.fail(VenueUnavailable("exchange unreachable"))
    await wait_for(lambda: engine.venue.streams == 2)
    assert engine.venue.after == [{}, {"BTC/USDT": T0}]


async def test_a_crashing_service_is_restarted_with_backoff_and_the_daemon_keeps_serving(
    engine: Engine,
) -> None:
    states = engine.ctx.bus.subscribe({"service"})
    for _ in range(3):
        engine.venue.fail(VenueUnavailable("exchange unreachable"))
        await wait_for(
            lambda: engine.ctx.state.services["market-feed"].state == "running" and engine.venue.queue.empty()
        )
    await wait_for(lambda: engine.venue.streams == 4)
    status = engine.ctx.state.services["market-feed"]
    assert status.restarts == 3
    assert status.last_error == "VenueUnavailable: exchange unreachable"
    crashes = []
    while (event := states.get_nowait()) is not None:
        if isinstance(event, ServiceStateChanged) and event.state == "crashed":
            crashes.append(event)
    assert [event.backoff_s for event in crashes] == [0.01, 0.02, 0.04]  # doubling
    # The API answers throughout, and the feed works again after its restarts.
    report = await engine.client().status()
    feed = next(s for s in report.services if s.name == "market-feed")
    assert feed.restarts == 3 and feed.state == "running"
    engine.venue.bar("ETH/USDT", T0, 10.0, closed=True)
    await wait_for(lambda: closed_ts(engine.ctx, "ETH/USDT") == T0)
    # The crash raised a service-failure alert (stored: no Apprise target is configured here).
    alerts = await eventually(lambda: engine.ctx.alerts.history(10))
    await eventually(lambda: _repeats(engine, 2))
    alerts = await engine.ctx.alerts.history(10)
    assert alerts[0].title == "Service market-feed crashed" and alerts[0].status == "no_targets"
    assert alerts[0].repeats == 2  # the next two crashes fell inside the dedupe window


async def _repeats(engine: Engine, count: int) -> bool:
    alerts = await engine.ctx.alerts.history(1)
    return bool(alerts) and alerts[0].repeats == count


class Worker:
    """A service that runs one unit of work of ``seconds`` and records how it ended."""

    name = "worker"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = asyncio.Event()
        self.outcome = ""

    async def run(self, ctx: EngineContext) -> None:
        async with ctx.work("slow write"):
            self.started.set()
            try:
                await asyncio.sleep(self.seconds)
                self.outcome = "finished"
            except asyncio.CancelledError:
                self.outcome = "cancelled"
                raise
        try:
            async with ctx.work("next write"):
                self.outcome += " and started more"
        except ServiceStopping:
            self.outcome += ", then stopped"
            raise


async def run_and_stop(settings: Settings, worker: Worker, stop_timeout_s: float) -> Any:
    settings = settings.model_copy(
        update={"daemon": settings.daemon.model_copy(update={"stop_timeout_s": stop_timeout_s})}
    )
    daemon = core_daemon(settings, serve_api=False, services=lambda ctx: [worker])
    ctx = await daemon.start()
    await worker.started.wait()
    await daemon.stop()
    return ctx


async def test_a_stop_lets_running_work_finish_within_the_deadline(settings: Settings) -> None:
    worker = Worker(0.2)
    ctx = await run_and_stop(settings, worker, stop_timeout_s=5)
    assert worker.outcome == "finished, then stopped"
    assert ctx.state.services["worker"].state == "stopped"


async def test_work_still_running_at_the_deadline_is_cancelled(settings: Settings) -> None:
    worker = Worker(30)
    await run_and_stop(settings, worker, stop_timeout_s=0.1)
    assert worker.outcome == "cancelled"


async def test_a_service_that_returns_is_not_restarted(settings: Settings) -> None:
    runs = []

    class Once:
        name = "once"

        async def run(self, ctx: EngineContext) -> None:
            runs.append(1)

    daemon = core_daemon(settings, serve_api=False, services=lambda ctx: [Once()])
    ctx = await daemon.start()
    try:
        await wait_for(lambda: ctx.state.services["once"].state == "stopped")
        await asyncio.sleep(0.05)
        assert runs == [1] and ctx.state.services["once"].restarts == 0
    finally:
        await daemon.stop()


async def test_a_busy_tcp_port_is_one_log_line_per_retry_and_the_cli_warns(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """`[api] tcp_port` held by another program: the "api-tcp" service fails with one line (no
    traceback on every retry), the daemon keeps running, and `mt daemon start` says so up front."""
    import logging
    import socket

    from mastertrade.cli.daemon import _busy_port
    from mastertrade.engine.api.app import create_app
    from mastertrade.engine.services.api_server import ApiServer, bind_tcp

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        said = _busy_port(port)
        assert said is not None and f"[api] tcp_port {port} cannot be opened" in said

        def services(ctx: EngineContext) -> list[Any]:
            return [ApiServer("api-tcp", create_app(ctx), lambda: bind_tcp(port), f"127.0.0.1:{port}")]

        caplog.set_level(logging.ERROR, logger="mastertrade.engine.services.supervisor")
        daemon = core_daemon(settings, serve_api=False, services=services)
        ctx = await daemon.start()
        try:
            await wait_for(lambda: ctx.state.services["api-tcp"].restarts >= 2)
        finally:
            await daemon.stop()
        crashes = [r for r in caplog.records if "service api-tcp crashed" in r.getMessage()]
        assert len(crashes) >= 2 and all(record.exc_info is None for record in crashes)
        assert f"cannot listen on 127.0.0.1:{port}" in crashes[0].getMessage()
    finally:
        holder.close()
    assert _busy_port(port) is None  # free again
