"""Research the daemon runs on a replay reads only the bars the replay has played: its store holds the
whole imported history, and the nightly generation searched and held out on the months after the
replay's market time, then put the chosen strategies on paper to trade those very bars."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

import pytest

from mastertrade.config import load_settings
from mastertrade.engine.market.replay import ReplayVenue
from mastertrade.engine.market.replay_position import ReplayPositions
from mastertrade.engine.market.store import CandleStore, SeriesKey
from mastertrade.engine.services import build_jobs
from mastertrade.utc import iso_ms
from tests.daemon.conftest import core_daemon

HOUR = 3_600_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
BARS = 1_200
START = 600  # the replay plays from the 600th stored bar on


def _rows(count: int) -> list[tuple[int, float, float, float, float, float]]:
    rows = []
    for i in range(count):
        close = 100.0 + 10.0 * math.sin(i / 7.0) + 0.05 * i
        rows.append((T0 + i * HOUR, close - 0.5, close + 1.5, close - 1.5, close, 10.0))
    return rows


async def _replay_daemon(
    database: Any,
    monkeypatch: pytest.MonkeyPatch,
    symbol: str = "BIG/USDT",
    rows: list[tuple[int, float, float, float, float, float]] | None = None,
) -> tuple[Any, Any]:
    """A daemon replaying csv BIG/USDT 1h (or ``symbol``'s ``rows``) from bar START, held before its
    first tick: its market time is that bar's open, and the 600 bars after it are stored, not played."""
    store = CandleStore(database)
    await store.upsert(SeriesKey("csv", symbol, "1h"), rows or _rows(BARS))
    monkeypatch.setenv("MT_MARKET__VENUE", "replay")
    monkeypatch.setenv("MT_MARKET__REPLAY_EXCHANGE", "csv")
    monkeypatch.setenv("MT_MARKET__SYMBOLS", json.dumps([symbol]))
    monkeypatch.setenv("MT_GENERATOR__COUNT", "4")
    monkeypatch.setenv("MT_GENERATOR__POPULATION", "8")
    monkeypatch.setenv("MT_GENERATOR__GENERATIONS", "0")
    showing = asyncio.Event()

    async def before_the_first_tick(seconds: float) -> None:
        showing.set()
        await asyncio.Future()  # the replay shows nothing more: market time stays at its first bar

    venue = ReplayVenue(
        store,
        "csv",
        start=T0 + START * HOUR,
        sleep=before_the_first_tick,
        positions=ReplayPositions(database),
    )
    daemon = core_daemon(load_settings(), venue=venue, serve_api=False, jobs=build_jobs)
    ctx = await daemon.start()
    await showing.wait()
    return daemon, ctx


async def test_nightly_generation_on_a_replay_reads_only_the_bars_it_played(
    database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mastertrade.engine.generator.store import StrategyStore
    from mastertrade.engine.scheduler.service import SchedulerService

    daemon, ctx = await _replay_daemon(database, monkeypatch)
    try:
        market_time = T0 + START * HOUR
        assert int(ctx.market_time.now().timestamp() * 1000) == market_time
        scheduler = ctx.find(SchedulerService)
        assert scheduler is not None
        await scheduler.start_job("nightly_generation")
        await scheduler.wait_idle()
        [record] = await scheduler.runs.recent("nightly_generation")
        assert record.outcome == "ok", record.error
        [run] = await StrategyStore(database).runs()
        assert run.parameters["bars"] == START  # the bars closed by the market time, not all 1,200
        assert run.parameters["stored_bars"] == START
        assert json.loads(record.result)["market_time"] == iso_ms(market_time)
        strategies = await StrategyStore(database).list()
        assert strategies
        for strategy in strategies:  # the hold-out is the newest bars the replay has played
            assert strategy.holdout["end"] == iso_ms(market_time - HOUR)
    finally:
        await daemon.stop()


async def test_where_mt_generate_stops_in_a_replay_workspace(
    database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mt generate` by hand stops at the open of the last bar a replay began to serve (the daemon may be
    showing it forming), at the first bar to play after a skip ahead with a later ``replay_start``, and
    where the last replay left the market when the daemon would refuse the configured one."""
    from mastertrade.engine.market.as_of import workspace_market_time

    store = CandleStore(database)
    await store.upsert(SeriesKey("csv", "BIG/USDT", "1h"), _rows(20))
    monkeypatch.setenv("MT_MARKET__VENUE", "replay")
    monkeypatch.setenv("MT_MARKET__REPLAY_EXCHANGE", "csv")
    monkeypatch.setenv("MT_MARKET__SYMBOLS", '["BIG/USDT"]')
    assert await workspace_market_time(load_settings(), database) == T0  # nothing served: the first bar
    await ReplayPositions(database).record("csv", "1h", T0 + 5 * HOUR)
    assert await workspace_market_time(load_settings(), database) == T0 + 5 * HOUR
    monkeypatch.setenv("MT_MARKET__REPLAY_START", iso_ms(T0 + 12 * HOUR))
    assert await workspace_market_time(load_settings(), database) == T0 + 12 * HOUR
    await store.upsert(SeriesKey("old", "BIG/USDT", "1h"), _rows(3))
    monkeypatch.delenv("MT_MARKET__REPLAY_START")
    monkeypatch.setenv("MT_MARKET__REPLAY_EXCHANGE", "old")  # refused: it would take market time back
    assert await workspace_market_time(load_settings(), database) == T0 + 5 * HOUR
    monkeypatch.setenv("MT_MARKET__VENUE", "sim")
    assert await workspace_market_time(load_settings(), database) is None


async def test_the_chart_of_a_replay_ends_at_its_market_time(
    database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dashboard's chart (`/v1/candles`, `/v1/indicators`) showed a replay's newest stored bars: the
    prices to come, months of them, to a trader trading the replay by hand."""
    import httpx

    from mastertrade.engine.api.app import create_app

    daemon, ctx = await _replay_daemon(database, monkeypatch)
    try:
        last = T0 + (START - 1) * HOUR  # the newest bar closed by the market time
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(ctx)), base_url="http://mt"
        ) as api:
            newest = (await api.get("/v1/candles", params={"symbol": "BIG/USDT", "limit": 5})).json()
            paged = (
                await api.get(
                    "/v1/candles", params={"symbol": "BIG/USDT", "since": str(last - HOUR), "limit": 50}
                )
            ).json()
            lines = (
                await api.get(
                    "/v1/indicators", params={"symbol": "BIG/USDT", "line": "sma(length=5)", "limit": 5}
                )
            ).json()
            folded = (
                await api.get(
                    "/v1/indicators",
                    params={"symbol": "BIG/USDT", "line": "sma(length=2)", "timeframe": "4h", "limit": 5},
                )
            ).json()
        assert [c["ts"] for c in newest["candles"]] == [last - i * HOUR for i in range(4, -1, -1)]
        assert [c["ts"] for c in paged["candles"]] == [last - HOUR, last] and paged["next"] is None
        assert lines["ts"][-1] == last
        assert folded["ts"][-1] <= last
    finally:
        await daemon.stop()


async def test_a_strategys_backtest_curve_on_a_replay_ends_at_its_market_time(
    database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`GET /v1/strategies/ID` (the TUI's strategy detail) drew the backtest over every stored bar of the
    strategy's series: on a replay, the prices to come, to a trader deciding whether to activate it."""
    import httpx

    from mastertrade.engine.api.app import create_app
    from mastertrade.engine.generator.store import NewStrategy, StrategyStore
    from mastertrade.engine.signals.builtins import builtin

    daemon, ctx = await _replay_daemon(database, monkeypatch)
    try:
        [stored] = await StrategyStore(database).add_many(
            [NewStrategy(builtin("sma_cross", "BIG/USDT", "1h"), exchange="csv")]
        )
        last = T0 + (START - 1) * HOUR  # the newest bar closed by the market time
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(ctx)), base_url="http://mt"
        ) as api:
            detail = (await api.get(f"/v1/strategies/{stored.id}")).json()
        assert detail["backtest"]["bars"] == START
        assert detail["backtest"]["end"] == iso_ms(last)
        assert detail["backtest"]["market_time"] == iso_ms(T0 + START * HOUR)
        assert detail["backtest"]["after_market_time_bars"] == BARS - START
        stamps = [point["ts"] for point in detail["backtest_equity"]]
        assert stamps[0] == T0 and stamps[-1] == last
    finally:
        await daemon.stop()


async def test_the_features_of_a_replay_end_at_its_market_time(
    database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`/v1/features` and `/v1/features/NAME` listed and paged every stored value: on a replay, the fear &
    greed (or sentiment) of the months to come, and its newest value as the series' last."""
    import httpx

    from mastertrade.engine.api.app import create_app
    from mastertrade.engine.collectors.base import FeaturePoint
    from mastertrade.engine.collectors.store import FeatureStore

    daemon, ctx = await _replay_daemon(database, monkeypatch)
    try:
        # one value a bar, each published as its bar closes, over the whole stored history
        points = [
            FeaturePoint("fear_greed", float(i % 100), T0 + i * HOUR, T0 + (i + 1) * HOUR)
            for i in range(BARS)
        ]
        await FeatureStore(database).upsert("alternative_me", points)
        last = T0 + (START - 1) * HOUR  # the newest value published by the market time
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(ctx)), base_url="http://mt"
        ) as api:
            [listed] = (await api.get("/v1/features", params={"source": "alternative_me"})).json()
            paged = (
                await api.get("/v1/features/fear_greed", params={"since": str(last - HOUR), "limit": 50})
            ).json()
        assert listed["rows"] == START
        assert listed["last"] == iso_ms(last)
        assert listed["last_value"] == float((START - 1) % 100)
        assert [point["ts"] for point in paged["points"]] == [last - HOUR, last]
        assert paged["next"] is None
    finally:
        await daemon.stop()


async def test_the_simulated_features_of_a_replay_follow_only_the_bars_it_played(
    database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a replay the daemon's simulated features read every stored bar of the window, the bars to come
    too: Bitcoin's mempool series, scaled by the window's median volatility, published values before the
    market time that moved with the prices the replay had yet to play (here calm, then wild)."""
    from mastertrade.engine.collectors.daemon_service import CollectorsService
    from mastertrade.engine.collectors.sim import SIM_SOURCE, simulate_features
    from mastertrade.engine.collectors.store import FeatureStore
    from mastertrade.engine.market.store import frame_from_matrix

    rows = []
    for i in range(BARS):
        swing = 1.0 if i < START else 20.0
        close = 100.0 + swing * math.sin(i / 3.0)
        rows.append((T0 + i * HOUR, close - 0.5, close + 1.5, close - 1.5, close, 10.0))
    daemon, ctx = await _replay_daemon(database, monkeypatch, "BTC/USDT", rows)
    try:
        market_time = T0 + START * HOUR
        collectors = CollectorsService().build(ctx)
        await collectors.poll_all([SIM_SOURCE])
        await collectors.close()
        stored = await FeatureStore(database).read(SIM_SOURCE, "mempool_tx", "BTC")
        played = frame_from_matrix(
            await CandleStore(database).read_matrix(SeriesKey("csv", "BTC/USDT", "1h"), end=market_time)
        )
        expected = {
            point.ts: point.value
            for point in simulate_features({"BTC/USDT": played}, "1h", ctx.settings.market.seed)
            if point.name == "mempool_tx"
        }
        assert len(stored) == START
        assert dict(zip(stored.ts.tolist(), stored.values.tolist(), strict=True)) == expected
    finally:
        await daemon.stop()
