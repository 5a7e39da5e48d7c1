"""`mt status` says when a heavy job on simulated time is held back: its next fire shows market time, but
no run comes before the wall time its pacing allows (`held_until` in /v1/status)."""

from __future__ import annotations

from datetime import UTC, datetime


def test_a_held_job_says_until_when() -> None:
    from mastertrade.cli.status import _next_run

    fire = datetime(2026, 12, 8, 3, tzinfo=UTC)
    assert _next_run(fire, None) == "2026-12-08T03:00:00Z"
    held = datetime(2026, 12, 4, 8, 23, 0, 512_000, tzinfo=UTC)
    assert _next_run(fire, held) == "2026-12-08T03:00:00Z, but none before 2026-12-04T08:23:00Z (wall clock)"
