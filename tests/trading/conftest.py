"""Fixtures of the trading tests: an in-process daemon on a fake venue whose bars the test pushes, with
the trading service, a strategy source the test chooses, and a client over ASGI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from mastertrade.config import Settings
from mastertrade.engine.daemon import Daemon
from mastertrade.engine.execution.strategies import StaticStrategies, StrategySource
from mastertrade.engine.kernel.context import EngineContext
from tests.daemon.conftest import configure
from tests.daemon.fakes import FakeVenue, RecordingNotifier
from tests.fakes.exchange_trading import TradingExchange
from tests.trading.live_rig import Rig, open_desk

HOUR = 3_600_000
WAIT_S = 60.0
"""The deadline of ``TradingEngine.wait``: generous, so a loaded machine never reaches it."""
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def trading_settings(**sections: dict[str, Any]) -> Settings:
    values: dict[str, Any] = {
        "collectors": {"enabled": False},
        "scheduler": {"enabled": False},
        "paper": {"starting_cash": 100_000.0, "strategy_cash": 10_000.0, "fee": 0.001},
    }
    values.update(sections)
    return configure(**values)


class TradingEngine:
    def __init__(
        self, daemon: Daemon, ctx: EngineContext, venue: FakeVenue, source: StaticStrategies
    ) -> None:
        self.daemon = daemon
        self.ctx = ctx
        self.venue = venue
        self.source = source
        self.events: list[Any] = []
        self._recorder: asyncio.Task[None] | None = None
        self.successor: TradingEngine | None = None
        """The daemon started by ``restart``: stopped with this one by ``close``."""

    @classmethod
    async def open(cls, settings: Settings, source: StaticStrategies) -> TradingEngine:
        """A daemon on a new fake venue, with the trading service trading ``source``'s strategies."""
        from mastertrade.engine.execution.trader import Trader
        from mastertrade.engine.services import build_services

        venue = FakeVenue()

        def services(ctx: EngineContext) -> Any:
            ctx.provide(source, as_type=StrategySource)
            return build_services(ctx)

        daemon = Daemon(
            settings, venue=venue, notifier=RecordingNotifier(), serve_api=False, services=services
        )
        ctx = await daemon.start()
        engine = cls(daemon, ctx, venue, source)
        subscription = ctx.bus.subscribe(["order", "signal", "risk", "goal"], name="test")

        async def record() -> None:
            try:
                async for event in subscription:
                    engine.events.append(event)
            finally:
                subscription.close()

        engine._recorder = asyncio.create_task(record())
        await engine.wait(lambda: ctx.find(Trader) is not None, "the trading service")
        return engine

    async def close(self) -> None:
        if self.successor is not None:
            await self.successor.close()
        if self._recorder is not None:
            self._recorder.cancel()
            await asyncio.gather(self._recorder, return_exceptions=True)
        await self.daemon.stop()

    async def restart(self) -> TradingEngine:
        """This daemon stopped and another started on the same database (``mt daemon restart``): it knows
        only what the journal holds. The events recorded so far are kept."""
        await self.close()
        engine = await TradingEngine.open(self.daemon.settings, self.source)
        engine.events[:0] = self.events
        self.successor = engine
        return engine

    @property
    def trader(self) -> Any:
        from mastertrade.engine.execution.trader import Trader

        return self.ctx.get(Trader)

    async def risk_metrics(self) -> dict[str, Any]:
        """A run of the ``risk_metrics`` job."""
        from types import SimpleNamespace

        from mastertrade.engine.services.trading import risk_metrics

        run = SimpleNamespace(progress=lambda *_: None)
        return await risk_metrics(self.ctx, run)  # type: ignore[arg-type]

    def client(self) -> Any:
        from mastertrade.client import DaemonClient
        from mastertrade.engine.api.app import create_app

        return DaemonClient(transport=httpx.ASGITransport(app=create_app(self.ctx)))

    async def wait(self, condition: Callable[[], Any], what: str = "condition") -> None:
        """Until ``condition`` (a function, or a coroutine function) holds. Checked every 5 ms, within a
        deadline that only a broken daemon reaches: it was a thousand checks (about 5 s), which a bar's
        handling under load outlasted."""
        deadline = asyncio.get_running_loop().time() + WAIT_S
        while True:
            result = condition()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what} ({WAIT_S:g} s)")
            await asyncio.sleep(0.005)

    async def bar(
        self, symbol: str, i: int, o: float, h: float, low: float, c: float, *, ticks: bool = True
    ) -> None:
        """Push bar ``i`` (a forming update at its open, then the closed bar) and wait until the trading
        service has handled the close."""
        from mastertrade.engine.candle import Candle
        from mastertrade.engine.market.venue import CandleUpdate

        ts = T0 + i * HOUR
        if ticks:
            self.venue.push(CandleUpdate(symbol, "1h", Candle(ts, o, o, o, o, 1.0), False))
        self.venue.push(CandleUpdate(symbol, "1h", Candle(ts, o, h, low, c, 10.0), True))
        trader = self.trader
        await self.wait(lambda: trader.account.last.get(symbol) == (ts, True), f"bar {i} of {symbol}")
        await self.wait(lambda: not self.ctx.state.inflight, "work to finish")


@pytest.fixture
def trading_strategies() -> StaticStrategies:
    return StaticStrategies()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return trading_settings()


@pytest.fixture
async def trading(settings: Settings, trading_strategies: StaticStrategies) -> AsyncIterator[TradingEngine]:
    engine = await TradingEngine.open(settings, trading_strategies)
    try:
        yield engine
    finally:
        await engine.close()


@pytest.fixture
async def raw(trading: TradingEngine) -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client of the trading engine's API (status codes and bodies as sent), in process."""
    from mastertrade.engine.api.app import create_app

    transport = httpx.ASGITransport(app=create_app(trading.ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://mt") as client:
        yield client


class ThreadedTrading:
    """A daemon with the trading service serving its socket from a background thread's event loop (for
    the CLI, which runs its own event loop in the test's thread)."""

    def __init__(
        self, settings: Settings, *, components: tuple[object, ...] = (), venue: FakeVenue | None = None
    ) -> None:
        import threading

        self.settings = settings
        self.components = components
        self.ready = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.ctx: EngineContext | None = None
        self.venue = venue or FakeVenue()
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
        from mastertrade.engine.execution.trader import Trader

        self.loop = asyncio.get_running_loop()
        daemon = Daemon(
            self.settings, venue=self.venue, notifier=RecordingNotifier(), components=self.components
        )
        self.ctx = await daemon.start()
        try:
            while not (await daemon_running() and self.ctx.find(Trader) is not None):
                await asyncio.sleep(0.01)
            self.ready.set()
            await self.ctx.stopping.wait()
        finally:
            await daemon.stop()

    def call(self, fn: Callable[[], Any]) -> None:
        assert self.loop is not None
        self.loop.call_soon_threadsafe(fn)

    def start(self) -> ThreadedTrading:
        self.thread.start()
        assert self.ready.wait(30), "the threaded daemon did not come up"
        if self.error is not None:
            raise self.error
        return self

    def stop(self) -> None:
        if self.ctx is not None and self.thread.is_alive():
            ctx = self.ctx
            self.call(lambda: ctx.request_stop("test over"))
        self.thread.join(20)


@pytest.fixture
def desk_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Options over ``live_rig.DESK`` for the ``desk`` fixture: a module overrides this fixture, a test
    parametrizes it (``indirect=True``)."""
    return dict(getattr(request, "param", {}))


@pytest.fixture
def desk(desk_options: dict[str, Any]) -> Iterator[TradingExchange]:
    """The fake exchange's trading desk, started (``tests/trading/live_rig.py``)."""
    yield from open_desk(**desk_options)


@pytest.fixture
async def rig(database: Any, desk: TradingExchange) -> AsyncIterator[Rig]:
    """A journal and live brokers on ``desk`` (``tests/trading/live_rig.py``)."""
    rig = Rig(database, desk)
    try:
        yield rig
    finally:
        await rig.close()


@pytest.fixture
def daemon(db_url: str) -> Iterator[ThreadedTrading]:
    """A paper daemon on the fake venue serving its socket from a thread, for the CLI tests."""
    threaded = ThreadedTrading(trading_settings()).start()
    try:
        yield threaded
    finally:
        threaded.stop()
