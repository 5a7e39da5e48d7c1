"""Fixtures of the dashboard tests: a fake daemon and the app on it, with a frozen clock and a feed
that retries at once and never polls on its own (tests say when things change)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from mastertrade.tui.app import MasterTradeApp
from tests.tui.fakes import FakeBackend, frozen_clock

FAST_FEED = {"retry_s": 0.01, "max_retry_s": 0.02, "tick_s": 0.02, "poll_s": 3600.0, "slow_poll_s": 3600.0}


def make_app(backend: FakeBackend | None = None, **options: Any) -> MasterTradeApp:
    options.setdefault("clock", frozen_clock)
    options.setdefault("flush_s", 0.01)
    options.setdefault("feed_options", dict(FAST_FEED))
    return MasterTradeApp(backend or FakeBackend(), **options)


async def wait_for(pilot: Pilot[Any], condition: Callable[[], bool], *, timeout: float = 10.0) -> None:
    """Let the app run until ``condition`` holds (then once more, so queued redraws land)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("the app never reached the expected state")
        await pilot.pause(0.01)
    await pilot.pause(0.02)
    await pilot.pause()


def loaded(app: MasterTradeApp) -> Callable[[], bool]:
    """Everything of the first snapshot has arrived."""
    state = app.state

    def check() -> bool:
        return (
            state.connected
            and state.risk.value is not None
            and state.goals.value is not None
            and (state.strategies.value is not None or state.strategies.error is not None)
            and all(ticker.series.bars for ticker in state.tickers.values())
            and bool(state.tickers)
        )

    return check


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()
