"""A daemon restarted on a replay keeps the market time the replay reached, even once its stored bars
have run out: its schedules never fall back to the wall clock (today's date) and never go back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mastertrade.config import load_settings
from mastertrade.engine.market.replay import ReplayVenue
from mastertrade.engine.market.replay_position import ReplayPositions
from mastertrade.engine.market.store import CandleStore, SeriesKey
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
