"""The feed: snapshots, events, refetches, and the connection through a daemon's absence and return."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from mastertrade.engine import events as ev
from mastertrade.tui.feed import Feed
from mastertrade.tui.state import LiveState, Topic
from tests.tui.fakes import FakeBackend, frozen_clock, tick


class Recorder:
    def __init__(self) -> None:
        self.topics: list[set[Topic]] = []
        self.notices: list[tuple[str, str]] = []

    def changed(self, topics: set[Topic]) -> None:
        self.topics.append(topics)

    def notice(self, text: str, severity: str) -> None:
        self.notices.append((text, severity))


def log_lines(state: LiveState) -> list[str]:
    """The event log's lines (the dashboard's key-6 screen shows these)."""
    return [item.text for item in state.log]


def feed_on(backend: FakeBackend, **options: float) -> tuple[Feed, LiveState, Recorder]:
    state = LiveState(frozen_clock)
    recorder = Recorder()
    settings = {"retry_s": 0.01, "max_retry_s": 0.02, "tick_s": 0.01, "poll_s": 3600.0, "slow_poll_s": 3600.0}
    settings.update(options)
    feed = Feed(backend, state, changed=recorder.changed, notice=recorder.notice, **settings)
    return feed, state, recorder


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition never held")


async def test_the_first_snapshot_loads_everything() -> None:
    feed, state, _ = feed_on(FakeBackend())
    await feed.load_all()
    assert state.status.value is not None and state.mode == "paper" and state.simulated is True
    assert set(state.tickers) == {"BTC/USDT", "ETH/USDT", "SOL/USDT"}
    assert all(len(t.series.bars) == 300 for t in state.tickers.values())
    assert state.balance.value is not None and state.risk.value is not None and state.goals.value is not None
    assert state.equity_source == "daemon" and len(state.equity) == 200
    assert [s.id for s in state.strategies.value or []][0] == "g-7f3a"
    assert len(state.alerts) == 3


async def test_failed_snapshots_are_said_and_the_equity_curve_falls_back_to_samples() -> None:
    feed, state, _ = feed_on(FakeBackend(strategies_served=False, equity_served=False))
    await feed.load_all()
    assert state.strategies.value is None
    assert state.strategies.error == "the daemon could not read the strategy store"
    assert state.equity_source == "session" and len(state.equity) == 1
    assert state.equity_note == "the daemon could not read the equity history"


async def test_offline_then_connected_then_lost_then_back() -> None:
    backend = FakeBackend(up=False)
    feed, state, recorder = feed_on(backend)
    task = asyncio.create_task(feed.run())
    try:
        await until(lambda: state.connection.state == "offline")
        assert "not running" in (state.connection.reason or "")
        assert state.balance.value is None
        backend.come_back()
        await until(lambda: state.connected)
        assert state.balance.value is not None

        backend.go_down()
        await until(lambda: state.connection.state == "reconnecting")
        assert state.balance.value is not None  # the last figures stay, marked stale by the state
        backend.come_back()
        await until(lambda: state.connected)
        assert any("connection" in topics for topics in recorder.topics)
    finally:
        task.cancel()


async def test_events_are_folded_in_and_order_events_refetch_the_account() -> None:
    backend = FakeBackend()
    feed, state, recorder = feed_on(backend)
    task = asyncio.create_task(feed.run())
    try:
        await until(lambda: state.connected)
        backend.push(tick("BTC/USDT", 71_000.0))
        await until(lambda: state.tickers["BTC/USDT"].price == 71_000.0)
        fetched = state.orders.at
        backend.orders_list[0] = backend.orders_list[0].model_copy(update={"state": "filled", "filled": 0.5})
        backend.push(
            ev.OrderFilled(
                order_id="12",
                client_order_id="mt-000012",
                symbol="ETH/USDT",
                side="buy",
                amount=0.5,
                price=3_300.0,
                book="paper",
            )
        )
        await until(lambda: (state.orders.value or [])[0].state == "filled")
        assert state.orders.at == fetched  # the frozen clock: same time, new value
        assert ("[account] buy 0.5 ETH/USDT filled at 3,300.00", "info") in recorder.notices
        assert any(
            line.endswith("[account] buy 0.5 ETH/USDT filled at 3,300.00") for line in log_lines(state)
        )
        # a strategy's own paper book is never shown as if the account traded
        backend.push(
            ev.OrderFilled(
                order_id="13",
                client_order_id="mt-000013",
                symbol="SOL/USDT",
                side="buy",
                amount=60.28,
                price=150.0,
                strategy_id="63f7a43f600772c1",
                book="strategy:63f7a43f600772c1",
            )
        )
        label = ("[paper book 63f7a43f] buy 60.28 SOL/USDT filled at 150.0000", "info")
        await until(lambda: label in recorder.notices)
        # the event log says the same
        assert any(
            line.endswith("[paper book 63f7a43f] buy 60.28 SOL/USDT filled at 150.0000")
            for line in log_lines(state)
        )
    finally:
        task.cancel()


async def test_a_chart_at_a_longer_timeframe_folds_the_stream_candles() -> None:
    feed, state, _ = feed_on(FakeBackend())
    await feed.load_all()
    await feed.load_chart("BTC/USDT", "4h")
    extra = state.extra_series
    assert extra is not None and extra.timeframe == "4h"
    assert len(extra.bars) == 300  # 1,200 hourly bars folded four to one
    assert all(bar.ts % (4 * 3_600_000) == 0 for bar in extra.bars)
