"""The daemon's uptime does not follow the machine's clock. It was the wall clock now minus the wall clock
at start, so after the clock was set back an hour (NTP catching up, a VM resumed, a hand-set date)
`mt status` said "up -1d 23h 59m" and `/metrics` a negative `mt_uptime_seconds`; set forward, an uptime
the daemon never had. It is now measured on the monotonic clock; `started_at` stays the wall time."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from mastertrade.config import Settings
from mastertrade.engine.api.app import create_app
from tests.daemon.conftest import Engine


@pytest.fixture
def settings(sqlite_settings: Settings) -> Settings:
    return sqlite_settings


@pytest.mark.parametrize("jump", [timedelta(hours=1), timedelta(hours=-1)], ids=["set-back", "set-forward"])
async def test_uptime_ignores_a_jump_of_the_machine_clock(engine: Engine, jump: timedelta) -> None:
    # the wall time read at the start, seen from a clock that has since been set back (or forward)
    engine.ctx.state.started_at += jump
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(engine.ctx)), base_url="http://mt"
    ) as http:
        uptime = (await http.get("/v1/status")).json()["uptime_s"]
        metrics = (await http.get("/metrics")).text
    assert 0 <= uptime < 600, uptime
    line = next(line for line in metrics.splitlines() if line.startswith("mt_uptime_seconds "))
    assert 0 <= float(line.split()[1]) < 600, line
