"""The daemon trades the strategy store: a stored paper-stage strategy trades its own paper book on
closed candles without any test-provided strategy source, and a paused one stops."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from mastertrade.engine.daemon import Daemon
from mastertrade.engine.generator.states import State
from mastertrade.engine.generator.store import NewStrategy, StrategyStore
from mastertrade.engine.signals.genome import parse_genome
from tests.daemon.fakes import FakeVenue, RecordingNotifier
from tests.trading.conftest import TradingEngine, trading_settings
from tests.trading.test_service import BARS, BTC, UP_DOWN


@pytest.fixture
async def daemon_without_source(db_url: str) -> AsyncIterator[TradingEngine]:
    venue = FakeVenue()
    daemon = Daemon(trading_settings(), venue=venue, notifier=RecordingNotifier(), serve_api=False)
    ctx = await daemon.start()
    engine = TradingEngine(daemon, ctx, venue, None)  # type: ignore[arg-type]
    try:
        from mastertrade.engine.execution.trader import Trader

        await engine.wait(lambda: ctx.find(Trader) is not None, "the trading service")
        yield engine
    finally:
        await daemon.stop()


async def test_stored_paper_strategy_trades_its_book(daemon_without_source: TradingEngine) -> None:
    engine = daemon_without_source
    store = StrategyStore(engine.ctx.db)
    genome = parse_genome(UP_DOWN)
    new = NewStrategy(
        genome,
        exchange="fake",
        path=(
            (State.GENERATED, "test"),
            (State.BACKTESTED, "test"),
            (State.PASSED, "test"),
            (State.PAPER, "test"),
        ),
    )
    await store.add(new)
    for i, (o, h, low, c) in enumerate(BARS[:8]):
        await engine.bar(BTC, i, o, h, low, c)
    book = f"strategy:{new.id}"
    orders: list[Any] = await engine.trader.account.orders(book=book, limit=100)
    assert any(o["state"] == "filled" for o in orders)

    await store.transition(new.id, State.PAUSED, "test pause")
    before = len(await engine.trader.account.orders(book=book, limit=100))
    for i, (o, h, low, c) in enumerate(BARS[8:], start=8):
        await engine.bar(BTC, i, o, h, low, c)
    assert len(await engine.trader.account.orders(book=book, limit=100)) == before
