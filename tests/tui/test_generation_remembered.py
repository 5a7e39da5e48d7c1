"""The Strategies screen remembers the last generation run however many other jobs run after it. The
dashboard keeps the newest 20 job runs; the demo's daily risk_metrics and goal_snapshots jobs fire at
every simulated day (every 2 s), so 20 s after a generation run the screen read "generation none run in
this session" again."""

from __future__ import annotations

from textual.widgets import Static

from mastertrade.engine import events as ev
from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import FakeBackend
from tests.tui.test_app import plain


async def test_the_last_generation_run_outlives_a_flood_of_other_jobs() -> None:
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("3")
        await pilot.pause()
        line = app.screen.query_one("#generation", Static)
        backend.push(ev.JobStarted(job="nightly_generation", run_id=544, trigger="schedule"))
        backend.push(ev.JobFinished(job="nightly_generation", run_id=544, outcome="ok", duration_s=9.5))
        await wait_for(pilot, lambda: "run 544 ok" in plain(line))
        for run_id in range(545, 605):
            job = "risk_metrics" if run_id % 2 else "goal_snapshots"
            backend.push(ev.JobStarted(job=job, run_id=run_id, trigger="schedule"))
            backend.push(ev.JobFinished(job=job, run_id=run_id, outcome="ok", duration_s=0.1))
        await wait_for(pilot, lambda: 604 in app.state.jobs)
        assert "run 544 ok" in plain(line)
        assert len(app.state.jobs) <= 20
