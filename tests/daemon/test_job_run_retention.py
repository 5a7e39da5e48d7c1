"""Run records are kept per job up to ``[scheduler] keep_runs``: a simulated market's light jobs run several
times a second, and their records grew the database by hundreds of thousands of rows a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mastertrade.engine.scheduler.runs import JobRunStore

START = datetime(2026, 1, 1, tzinfo=UTC)


async def test_prune_keeps_each_jobs_newest_runs(database: Any) -> None:
    runs = JobRunStore(database)
    for minute in range(12):
        at = START + timedelta(minutes=minute)
        risk = await runs.start("risk_metrics", "schedule", at, outcome="ok")
        if minute % 4 == 0:
            await runs.start("nightly_generation", "schedule", at, outcome="ok")
    newest = risk.id
    assert await runs.prune(5) == 7  # 12 risk runs: 7 older than the newest 5; 3 nightly runs all kept
    kept = await runs.recent("risk_metrics", limit=100)
    assert [run.started_at for run in kept] == [START + timedelta(minutes=m) for m in range(11, 6, -1)]
    assert kept[0].id == newest
    assert len(await runs.recent("nightly_generation", limit=100)) == 3
    assert await runs.prune(5) == 0


@pytest.mark.parametrize("keep", [0, -1])
def test_keep_runs_must_keep_one(keep: int) -> None:
    from pydantic import ValidationError

    from mastertrade.config import SchedulerSettings

    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        SchedulerSettings(keep_runs=keep)
