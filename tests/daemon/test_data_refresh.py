"""The data_refresh job against the fake exchange on 127.0.0.1 (the real ccxt client): it resumes after
the newest stored bar and fills the holes among the newest ``[scheduler] repair_window_bars`` bars with
``mt data check --repair``'s code, reading only that window; older holes are left alone. Each run says
what it did ("ok: 15 new candles for 1 symbol; 3 bars of holes still missing"), not a bare "ok"."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mastertrade.client import DaemonClient
from mastertrade.config import ExchangeSettings, Settings
from mastertrade.engine.api.app import create_app
from mastertrade.engine.market.ccxt_venue import CcxtVenue
from mastertrade.engine.market.store import SeriesKey
from mastertrade.engine.scheduler.service import SchedulerService
from tests.daemon.conftest import core_daemon
from tests.daemon.fakes import wait_for
from tests.fakes.exchange import FAST_CCXT, FakeExchange, serve, venue_settings

HOUR = 3_600_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
KEY = SeriesKey("binance", "BTC/USDT", "1h")
KLINES = "/api/v3/klines"


@pytest.fixture
def fake() -> Iterator[FakeExchange]:
    # its clock stands still just after bar 299 closed: the last closed bar is known
    yield from serve(FakeExchange({"BTC/USDT": 42_000.0}, now=T0 + 300 * HOUR + 60_000))


def bars(rows: list[Any], *ranges: range) -> list[Any]:
    drop = {T0 + i * HOUR for r in ranges for i in r}
    return [row for row in rows if row[0] not in drop]


async def test_data_refresh_fills_the_holes_of_its_recent_window(
    settings: Settings, fake: FakeExchange
) -> None:
    config = settings.model_copy(
        update={
            "market": settings.market.model_copy(update={"venue": "ccxt", "symbols": ["BTC/USDT"]}),
            "scheduler": settings.scheduler.model_copy(update={"repair_window_bars": 100, "enabled": False}),
            "exchange": ExchangeSettings(**venue_settings(fake), page_limit=1000),
        }
    )
    history = fake.closed_candles("BTC/USDT", "1h", T0, T0 + 300 * HOUR)
    assert len(history) == 300
    fake.remove("BTC/USDT", "1h", T0 + 250 * HOUR, T0 + 253 * HOUR)  # a real outage: 3 bars never exist
    venue = CcxtVenue(config.exchange, options=FAST_CCXT)
    daemon = core_daemon(config, venue=venue, serve_api=False, services=lambda ctx: [SchedulerService()])
    ctx = await daemon.start()
    client = DaemonClient(transport=httpx.ASGITransport(app=create_app(ctx)))
    try:
        # the window is the newest 100 bars (200..299): a hole before it (20..29), one across its start
        # (195..204), one inside (250..259, of which the exchange has 253..259) and the newest bars (297..)
        await ctx.candles.upsert(
            KEY, bars(history, range(20, 30), range(195, 205), range(250, 260), range(297, 300))
        )
        scheduler = await wait_for(lambda: ctx.find(SchedulerService))

        said: list[str | None] = []

        async def refresh() -> tuple[dict[str, Any], list[int]]:
            """The run's result and the start times of the bars it asked the exchange for (its words in
            ``said``)."""
            before = len(fake.requests)
            await client.run_job("data_refresh")
            await scheduler.wait_idle()
            run = (await client.job_runs("data_refresh"))[0]
            assert run.outcome == "ok", run.error
            said.append(run.summary)
            asked = [int(r.params["startTime"]) for r in fake.requests[before:] if r.path == KLINES]
            return dict(run.result["symbols"]["BTC/USDT"]), asked

        first, asked = await refresh()
        assert said[-1] == "ok: 15 new candles for 1 symbol; 3 bars of holes still missing"
        assert first["holes"]["missing"] == 5 + 10  # 200..204 and 250..259
        assert first["holes"]["filled"] == 5 + 7
        assert first["holes"]["still_missing"] == 3
        assert first["new"] == 3 + 12
        # bounded: the resume and one range over both holes, not a page per missing bar or year
        assert asked == [T0 + 296 * HOUR, T0 + 200 * HOUR]
        stored = {int(ts.timestamp() * 1000) for ts in (await ctx.candles.read(KEY)).index}
        expected = {row[0] for row in bars(history, range(20, 30), range(195, 200), range(250, 253))}
        assert stored == expected
        filled = await ctx.candles.read(KEY, T0 + 200 * HOUR, T0 + 205 * HOUR)
        assert filled["close"].tolist() == [row[4] for row in history[200:205]]

        # the outage is asked for again, once; nothing else changes
        again, asked = await refresh()
        assert again["new"] == 0 and again["holes"]["missing"] == 3 and again["holes"]["filled"] == 0
        assert said[-1] == "ok: no new candles for 1 symbol; 3 bars of holes still missing"  # not "ok"
        assert asked == [T0 + 299 * HOUR, T0 + 250 * HOUR]
    finally:
        await client.aclose()
        await daemon.stop()


async def test_data_refresh_without_holes_asks_only_for_the_new_bars(
    settings: Settings, fake: FakeExchange
) -> None:
    config = settings.model_copy(
        update={
            "market": settings.market.model_copy(update={"venue": "ccxt", "symbols": ["BTC/USDT"]}),
            "scheduler": settings.scheduler.model_copy(update={"enabled": False}),
            "exchange": ExchangeSettings(**venue_settings(fake)),
        }
    )
    history = fake.closed_candles("BTC/USDT", "1h", T0, T0 + 300 * HOUR)
    daemon = core_daemon(
        config,
        venue=CcxtVenue(config.exchange, options=FAST_CCXT),
        serve_api=False,
        services=lambda ctx: [SchedulerService()],
    )
    ctx = await daemon.start()
    client = DaemonClient(transport=httpx.ASGITransport(app=create_app(ctx)))
    try:
        await ctx.candles.upsert(KEY, history[:-2])
        scheduler = await wait_for(lambda: ctx.find(SchedulerService))
        before = len(fake.requests)
        await client.run_job("data_refresh")
        await scheduler.wait_idle()
        run = (await client.job_runs("data_refresh"))[0]
        assert run.outcome == "ok", run.error
        assert (
            run.result["symbols"]["BTC/USDT"]["new"] == 2
            and run.result["symbols"]["BTC/USDT"]["holes"] is None
        )
        assert [r.params["startTime"] for r in fake.requests[before:] if r.path == KLINES] == [
            str(T0 + 297 * HOUR)
        ]
        assert run.summary == "ok: 2 new candles for 1 symbol"
        # a run with nothing to fetch says so: a bare "ok" read as candles refreshed
        await client.run_job("data_refresh")
        await scheduler.wait_idle()
        again = (await client.job_runs("data_refresh"))[0]
        assert again.result["new"] == 0
        assert again.summary == "ok: no new candles for 1 symbol, already up to date"
    finally:
        await client.aclose()
        await daemon.stop()
