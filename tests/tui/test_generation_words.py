"""The dashboard says what a job run did, in the daemon's words (the run's ``summary``, the one `mt
status` and `mt daemon run` show): the Strategies screen's generation line, the event log and the
generation toast read "run 76 ok" whether the night searched every series or none, and "goal_snapshots ok"
of a snapshot with no goal to record. The fake daemon answers as the real one does, in JSON (the words
themselves are the daemon's: tests/generator/test_nightly_outcome_words.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from textual.geometry import Region
from textual.widgets import Static

from mastertrade.engine import events as ev
from mastertrade.engine.api.schemas import JobInfo
from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import NOW, FakeBackend
from tests.tui.test_app import plain

NO_CANDLES = (
    "no candles stored for {} 1h on sim-live: run `mt data download`, `mt data sim` or `mt data import` first"
)
NOTHING = "ok: 0 of 2 series searched (all skipped: {}; {})".format(
    *(NO_CANDLES.format(symbol) for symbol in ("BTC/USDT", "ETH/USDT"))
)
"""How the daemon words a night whose every series was skipped."""
SEARCHED = (
    "ok: 1 of 2 series searched, 40 strategies stored, 3 passed, 1 put on paper, 1 promoted to active"
    " (1 skipped: sim-live:ETH/USDT:1h: 40 bars are too few)"
)
"""How the daemon words a night that searched one of its two series."""


def finished(job: str, run_id: int, summary: str, duration_s: float) -> ev.Event:
    """A ``job.finished`` event as the daemon's stream carries it (JSON, parsed as the client parses it)."""
    data: dict[str, Any] = {
        "type": "job.finished",
        "at": "2026-06-02T03:04:00Z",
        "job": job,
        "run_id": run_id,
    }
    return ev.parse_event(
        data | {"outcome": "ok", "duration_s": duration_s, "error": None, "summary": summary}
    )


def nightly_job(run_id: int, summary: str) -> JobInfo:
    """The nightly job as the daemon's status gives it, its last run "ok" with ``summary``."""
    started = NOW - timedelta(hours=9)
    run = {
        "id": run_id,
        "job": "nightly_generation",
        "trigger": "schedule",
        "started_at": started.isoformat(),
    }
    run |= {"finished_at": (started + timedelta(minutes=4)).isoformat(), "outcome": "ok", "summary": summary}
    job = {"name": "nightly_generation", "description": "", "available": True, "running": False}
    return JobInfo.model_validate(job | {"last_run": run})


def shown(widget: Static) -> str:
    """The one line ``widget`` shows on screen (what its width keeps of its text)."""
    (line,) = widget.render_lines(Region(0, 0, widget.region.width, 1))
    return "".join(segment.text for segment in line).strip()


async def test_a_fresh_dashboard_says_the_last_night_searched_nothing() -> None:
    backend = FakeBackend()
    backend.jobs = [nightly_job(76, NOTHING)]
    app = make_app(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("3")
        await pilot.pause()
        line = shown(app.screen.query_one("#generation", Static))
        assert line.startswith("generation run 76 ok: 0 of 2 series searched (all skipped: no candles"), line
        # the reasons are cut to the line, which still says how to start another
        assert line.endswith("… · g starts another"), line


async def test_a_streamed_run_says_what_it_did_in_the_line_the_log_and_the_toast() -> None:
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(200, 30), notifications=True) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("3")
        await pilot.pause()
        line = app.screen.query_one("#generation", Static)
        backend.push(ev.JobStarted(job="nightly_generation", run_id=77, trigger="manual"))
        backend.push(finished("nightly_generation", 77, SEARCHED, 240.0))
        await wait_for(pilot, lambda: "run 77 ok" in plain(line))
        assert plain(line) == f"generation run 77 {SEARCHED} · g starts another"
        assert f"nightly_generation {SEARCHED} in 240.0s" in [item.text for item in app.state.log]
        assert any(note.message == f"generation {SEARCHED}" for note in app._notifications)

        backend.push(finished("goal_snapshots", 78, "ok: no goals to record (`mt goal add`)", 0.1))
        await wait_for(pilot, lambda: 78 in app.state.jobs)
        logged = [item.text for item in app.state.log]
        assert "goal_snapshots ok: no goals to record (`mt goal add`) in 0.1s" in logged
