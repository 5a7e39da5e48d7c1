"""Fixtures of the daemon tests: settings in the test's MT_HOME, an in-process engine on a fake venue
(with or without its API on the real Unix socket), and a client for it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mastertrade.config import Settings, load_settings
from mastertrade.engine.daemon import Daemon
from mastertrade.engine.kernel.context import EngineContext
from tests.daemon.fakes import FakeVenue, RecordingNotifier


def configure(**sections: dict[str, Any]) -> Settings:
    """The settings of the test's MT_HOME with some sections' fields replaced."""
    settings = load_settings()
    updates = {
        name: getattr(settings, name).model_copy(update=values) if isinstance(values, dict) else values
        for name, values in sections.items()
    }
    updates.setdefault(
        "market", settings.market.model_copy(update={"symbols": ["BTC/USDT", "ETH/USDT"], "timeframe": "1h"})
    )
    updates.setdefault(
        "daemon", settings.daemon.model_copy(update={"restart_backoff_s": 0.01, "stop_timeout_s": 2})
    )
    return settings.model_copy(update=updates)


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Settings on SQLite and (with MT_TEST_POSTGRES_URL) on Postgres: for tests of what is stored."""
    return configure()


@pytest.fixture
def sqlite_settings(mt_home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings on SQLite only: for tests of the API, the CLI and the supervisor, where the database
    is incidental (modules that want it say ``settings = sqlite_only``)."""
    monkeypatch.setenv("MT_DB__URL", f"sqlite+aiosqlite:///{mt_home}/data/test.db")
    return configure()


def core_services(ctx: EngineContext) -> list[Any]:
    """This area's services only: other areas' services (trading, collectors) have their own tests."""
    from mastertrade.engine.alerts.service import AlertService
    from mastertrade.engine.scheduler.service import SchedulerService
    from mastertrade.engine.services.market_feed import MarketFeed

    return [AlertService(), MarketFeed(), SchedulerService()]


def core_jobs() -> Any:
    from mastertrade.engine.kernel.context import JobRegistry
    from mastertrade.engine.scheduler import data_refresh

    jobs = JobRegistry()
    data_refresh.register(jobs)
    return jobs


def core_daemon(settings: Settings, **options: Any) -> Daemon:
    """A daemon with this area's services and jobs, a fake venue and a recording notifier."""
    options.setdefault("venue", FakeVenue())
    options.setdefault("notifier", RecordingNotifier())
    options.setdefault("services", core_services)
    options.setdefault("jobs", core_jobs)
    return Daemon(settings, **options)


class Engine:
    """An engine started in the test's event loop."""

    def __init__(
        self, daemon: Daemon, ctx: EngineContext, venue: FakeVenue, notifier: RecordingNotifier
    ) -> None:
        self.daemon = daemon
        self.ctx = ctx
        self.venue = venue
        self.notifier = notifier

    def client(self) -> Any:
        from mastertrade.client import DaemonClient
        from mastertrade.engine.api.app import create_app

        return DaemonClient(transport=httpx.ASGITransport(app=create_app(self.ctx)))


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[Engine]:
    """A running engine on a fake venue, API not served (use ``engine.client()`` over ASGI)."""
    venue, notifier = FakeVenue(), RecordingNotifier()
    daemon = core_daemon(settings, venue=venue, notifier=notifier, serve_api=False)
    ctx = await daemon.start()
    try:
        yield Engine(daemon, ctx, venue, notifier)
    finally:
        await daemon.stop()


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[Engine]:
    """A running engine serving its API on the real Unix socket."""
    from mastertrade.client import daemon_running

    venue, notifier = FakeVenue(), RecordingNotifier()
    daemon = core_daemon(settings, venue=venue, notifier=notifier)
    ctx = await daemon.start()
    try:
        for _ in range(500):
            if await daemon_running():
                break
            await asyncio.sleep(0.01)
        yield Engine(daemon, ctx, venue, notifier)
    finally:
        await daemon.stop()


class ThreadedDaemon:
    """An engine serving its socket from a background thread's event loop (for the CLI, which runs
    its own event loop in the test's thread)."""

    def __init__(self, settings: Settings, *, apprise: bool = False) -> None:
        self.settings = settings
        self.apprise = apprise
        self.ready = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.ctx: EngineContext | None = None
        self.venue: FakeVenue | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # surfaced by start()
            self.error = exc
            self.ready.set()

    async def _main(self) -> None:
        from mastertrade.client import daemon_running

        self.loop = asyncio.get_running_loop()
        self.venue = FakeVenue()
        from mastertrade.engine.alerts.delivery import AppriseNotifier

        notifier = AppriseNotifier(timeout_s=5) if self.apprise else RecordingNotifier()
        daemon = core_daemon(self.settings, venue=self.venue, notifier=notifier)
        self.ctx = await daemon.start()
        try:
            while not await daemon_running():
                await asyncio.sleep(0.01)
            self.ready.set()
            await self.ctx.stopping.wait()
        finally:
            await daemon.stop()

    def call(self, fn: Callable[[], Any]) -> None:
        assert self.loop is not None
        self.loop.call_soon_threadsafe(fn)

    def start(self) -> ThreadedDaemon:
        self.thread.start()
        assert self.ready.wait(20), "the threaded daemon did not come up"
        if self.error is not None:
            raise self.error
        return self

    def stop(self) -> None:
        if self.ctx is not None and self.thread.is_alive():
            ctx = self.ctx
            self.call(lambda: ctx.request_stop("test over"))
        self.thread.join(20)


@pytest.fixture
def threaded_daemon(settings: Settings) -> Iterator[ThreadedDaemon]:
    daemon = ThreadedDaemon(settings).start()
    try:
        yield daemon
    finally:
        daemon.stop()
