"""The Strategies screen's generation line shows the daemon's last generation run from the moment the
dashboard connects. It learned of runs only from the event stream, so a dashboard opened after the
nightly run read "generation none run in this session" while ``mt status`` listed that run."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import Static

from mastertrade.engine import events as ev
from mastertrade.engine.api.schemas import JobInfo, JobRunInfo
from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import NOW, FakeBackend
from tests.tui.test_app import plain


def job(name: str, run: JobRunInfo | None, *, running: bool = False) -> JobInfo:
    return JobInfo(name=name, description=name, available=True, running=running, last_run=run)


def nightly(run_id: int, outcome: str, error: str | None = None) -> JobRunInfo:
    started = NOW - timedelta(hours=9)
    return JobRunInfo(
        id=run_id,
        job="nightly_generation",
        trigger="schedule",
        started_at=started,
        finished_at=None if outcome == "running" else started + timedelta(minutes=4),
        outcome=outcome,
        error=error,
    )


async def test_a_fresh_dashboard_shows_the_last_generation_run_the_daemon_knows() -> None:
    backend = FakeBackend()
    backend.jobs = [
        job(
            "risk_metrics",
            JobRunInfo(id=90, job="risk_metrics", trigger="schedule", started_at=NOW, outcome="ok"),
        ),
        job("nightly_generation", nightly(76, "error", "no candles stored for sim:BTC/USDT:1h")),
    ]
    app = make_app(backend)
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("3")
        await pilot.pause()
        line = plain(app.screen.query_one("#generation", Static))
        assert "run 76 error: no candles stored for sim:BTC/USDT:1h" in line, line
        assert "none run" not in line


async def test_a_run_under_way_at_connect_shows_and_finishes_from_the_stream() -> None:
    backend = FakeBackend()
    backend.jobs = [job("nightly_generation", nightly(77, "running"), running=True)]
    app = make_app(backend)
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("3")
        await pilot.pause()
        line = app.screen.query_one("#generation", Static)
        assert "run 77" in plain(line) and "running" in plain(line), plain(line)
        backend.push(ev.JobFinished(job="nightly_generation", run_id=77, outcome="ok", duration_s=240.0))
        await wait_for(pilot, lambda: "run 77 ok" in plain(line))
        # an answer still saying "running" (asked before the run ended) does not undo what the stream said
        await app.feed.refresh("status")
        await pilot.pause()
        assert "run 77 ok" in plain(line)


async def test_a_daemon_that_never_ran_one_says_none_yet() -> None:
    app = make_app(FakeBackend())
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("3")
        await pilot.pause()
        line = plain(app.screen.query_one("#generation", Static))
        assert "none run yet · g starts one" in line, line
