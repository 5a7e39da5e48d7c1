"""A daemon restarted on a replay keeps the market time the replay reached, even once its stored bars
have run out: its schedules never fall back to the wall clock (today's date) and never go back, and its
status shows where the replay stands, not the end of the stored history."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from mastertrade.config import load_settings
from mastertrade.engine.market.replay import ReplayVenue
from mastertrade.engine.market.replay_position import ReplayPositions
from mastertrade.engine.market.store import CandleStore, SeriesKey
from mastertrade.utc import iso
from tests.daemon.conftest import core_daemon
from tests.daemon.fakes import wait_for

HOUR = 3_600_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z


async def test_a_replay_that_ran_out_keeps_its_market_time_after_a_restart(
    database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [(T0 + i * HOUR, 100.0 + i, 101.0 + i, 99.0 + i, 100.5 + i, 10.0) for i in range(3)]
    await CandleStore(database).upsert(SeriesKey("csv", "BIG/USDT", "1h"), rows)
    await ReplayPositions(database).record("csv", "1h", T0 + 2 * HOUR)  # served to the end, then killed
    monkeypatch.setenv("MT_MARKET__VENUE", "replay")
    monkeypatch.setenv("MT_MARKET__REPLAY_EXCHANGE", "csv")
    monkeypatch.setenv("MT_MARKET__SYMBOLS", '["BIG/USDT"]')
    daemon = core_daemon(load_settings(), venue=None, serve_api=False)
    ctx = await daemon.start()
    try:
        await wait_for(lambda: ctx.state.services["market-feed"].state == "stopped")
        assert isinstance(ctx.venue, ReplayVenue) and ctx.venue.ended is not None
        assert ctx.market_time.now() == datetime(2024, 1, 1, 3, tzinfo=UTC)  # the last bar's close
    finally:
        await daemon.stop()


@pytest.mark.parametrize(("served", "shown"), [(T0 + 2 * HOUR, "2024-01-01T02:00:00Z"), (None, None)])
async def test_status_after_a_restart_shows_the_bar_the_replay_served_not_the_newest_stored(
    database: Any, monkeypatch: pytest.MonkeyPatch, served: int | None, shown: str | None
) -> None:
    """Right after a restart, before the replay shows its next bar, /v1/status's last closed bar is the
    last bar the replay served (none before it served any), never the newest stored bar, which is the
    end of the history it has yet to play."""
    from mastertrade.client import DaemonClient
    from mastertrade.engine.api.app import create_app

    rows = [(T0 + i * HOUR, 100.0 + i, 101.0 + i, 99.0 + i, 100.5 + i, 10.0) for i in range(6)]
    store = CandleStore(database)
    await store.upsert(SeriesKey("csv", "BIG/USDT", "1h"), rows)
    positions = ReplayPositions(database)
    if served is not None:
        await positions.record("csv", "1h", served)
    monkeypatch.setenv("MT_MARKET__VENUE", "replay")
    monkeypatch.setenv("MT_MARKET__REPLAY_EXCHANGE", "csv")
    monkeypatch.setenv("MT_MARKET__SYMBOLS", '["BIG/USDT"]')
    showing = asyncio.Event()

    async def before_the_first_tick(seconds: float) -> None:
        showing.set()
        await asyncio.Future()  # the next bar never comes: the status is read before it

    venue = ReplayVenue(store, "csv", sleep=before_the_first_tick, positions=positions)
    daemon = core_daemon(load_settings(), venue=venue, serve_api=False)
    ctx = await daemon.start()
    try:
        await showing.wait()
        async with DaemonClient(transport=httpx.ASGITransport(app=create_app(ctx))) as client:
            report = await client.status()
        [symbol] = report.symbols
        assert symbol.last_closed_ts == served
        assert (iso(symbol.last_closed) if symbol.last_closed else None) == shown
    finally:
        await daemon.stop()


def test_mt_status_says_a_replay_has_served_no_bar_yet() -> None:
    from mastertrade.cli.status import _no_closed_bar

    assert _no_closed_bar("replay") == "none served yet"
    assert _no_closed_bar("ccxt") == "none stored"


async def test_a_restarted_replay_schedules_its_jobs_on_its_market_time_from_the_start(
    database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scheduler's first next runs are on the replay's market time: computed on the wall clock
    before the feed moved the market clock, they read today's date (`mt status`, "next run (market
    time)") and, once the stored bars had run out, stayed so, for market time no longer moved."""
    from mastertrade.engine.kernel.context import JobRegistry
    from mastertrade.engine.scheduler.service import SchedulerService

    rows = [(T0 + i * HOUR, 100.0 + i, 101.0 + i, 99.0 + i, 100.5 + i, 10.0) for i in range(3)]
    await CandleStore(database).upsert(SeriesKey("csv", "BIG/USDT", "1h"), rows)
    await ReplayPositions(database).record("csv", "1h", T0 + 2 * HOUR)  # served to the end
    monkeypatch.setenv("MT_MARKET__VENUE", "replay")
    monkeypatch.setenv("MT_MARKET__REPLAY_EXCHANGE", "csv")
    monkeypatch.setenv("MT_MARKET__SYMBOLS", '["BIG/USDT"]')
    monkeypatch.setenv("MT_SCHEDULER__JOBS", '{"goal_snapshots": "0 * * * *"}')

    async def snapshot(*_: Any) -> dict[str, Any]:
        return {}

    def jobs() -> JobRegistry:
        registry = JobRegistry()
        registry.add("goal_snapshots", snapshot, "a job on the hour")
        return registry

    daemon = core_daemon(load_settings(), venue=None, serve_api=False, jobs=jobs)
    ctx = await daemon.start()
    try:
        await wait_for(lambda: ctx.state.services["market-feed"].state == "stopped")
        scheduler = ctx.find(SchedulerService)
        assert scheduler is not None
        [job] = [job for job in await scheduler.jobs_info() if job["name"] == "goal_snapshots"]
        assert job["next_run"] == datetime(2024, 1, 1, 4, tzinfo=UTC)  # the hour after 03:00, market time
    finally:
        await daemon.stop()


async def test_a_fresh_replay_runs_on_its_first_bar_before_the_first_price(
    database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replay that has served nothing yet starts its market time at the open of the first bar it will
    play (``replay_start``'s, or the first stored): before its first price, an order was placed (and jobs
    scheduled) on today's date, and then filled on a bar years earlier."""
    rows = [(T0 + i * HOUR, 100.0 + i, 101.0 + i, 99.0 + i, 100.5 + i, 10.0) for i in range(6)]
    store = CandleStore(database)
    await store.upsert(SeriesKey("csv", "BIG/USDT", "1h"), rows)
    monkeypatch.setenv("MT_MARKET__VENUE", "replay")
    monkeypatch.setenv("MT_MARKET__REPLAY_EXCHANGE", "csv")
    monkeypatch.setenv("MT_MARKET__SYMBOLS", '["BIG/USDT"]')
    showing = asyncio.Event()

    async def before_the_first_tick(seconds: float) -> None:
        showing.set()
        await asyncio.Future()

    start = T0 + 90 * 60_000  # replay_start 01:30: the first bar to play opens at 02:00
    positions = ReplayPositions(database)
    venue = ReplayVenue(store, "csv", start=start, sleep=before_the_first_tick, positions=positions)
    daemon = core_daemon(load_settings(), venue=venue, serve_api=False)
    ctx = await daemon.start()
    try:
        await showing.wait()
        assert ctx.market_time.now() == datetime(2024, 1, 1, 2, tzinfo=UTC)
    finally:
        await daemon.stop()


async def test_after_skipping_ahead_with_replay_start_status_and_market_time_stand_at_the_skip(
    database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replay restarted with a later ``replay_start`` skips the bars between: right after the restart,
    `mt status` showed as the last closed bar the one served before the skip, and the market time stood
    at its close, hours (or months) behind the bar the replay goes on with."""
    from mastertrade.client import DaemonClient
    from mastertrade.engine.api.app import create_app

    rows = [(T0 + i * HOUR, 100.0 + i, 101.0 + i, 99.0 + i, 100.5 + i, 10.0) for i in range(10)]
    store = CandleStore(database)
    await store.upsert(SeriesKey("csv", "BIG/USDT", "1h"), rows)
    positions = ReplayPositions(database)
    await positions.record("csv", "1h", T0 + 2 * HOUR)  # served up to the 02:00 bar
    monkeypatch.setenv("MT_MARKET__VENUE", "replay")
    monkeypatch.setenv("MT_MARKET__REPLAY_EXCHANGE", "csv")
    monkeypatch.setenv("MT_MARKET__SYMBOLS", '["BIG/USDT"]')
    showing = asyncio.Event()

    async def before_the_first_tick(seconds: float) -> None:
        showing.set()
        await asyncio.Future()

    skip_to = T0 + 6 * HOUR  # replay_start 06:00: the bars from 03:00 to 05:00 are skipped
    venue = ReplayVenue(store, "csv", start=skip_to, sleep=before_the_first_tick, positions=positions)
    daemon = core_daemon(load_settings(), venue=venue, serve_api=False)
    ctx = await daemon.start()
    try:
        await showing.wait()
        assert ctx.market_time.now() == datetime(2024, 1, 1, 6, tzinfo=UTC)
        async with DaemonClient(transport=httpx.ASGITransport(app=create_app(ctx))) as client:
            report = await client.status()
        [symbol] = report.symbols
        assert symbol.last_closed_ts == T0 + 5 * HOUR  # the bar before the first it plays, not 02:00
    finally:
        await daemon.stop()
