"""The record of job runs (table ``job_runs``): one row per run, written at start, finished at end."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, update
from sqlmodel import col, select

from mastertrade.db.database import Database
from mastertrade.db.models.daemon import JobRun
from mastertrade.engine.kernel.run_words import Listed

if TYPE_CHECKING:
    from mastertrade.engine.kernel.context import Job


def run_info(run: JobRun, job: Job | None = None) -> dict[str, Any]:
    """A run as the API gives it; ``summary`` is its outcome in the words of ``job`` (the registered job
    of that name: ``Job.summary``), the outcome as stored for a job this version does not have, and
    ``summary_list`` those words' parts when they end in a list (``Job.listed``)."""
    duration = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
    result = json.loads(run.result) if run.result else None
    words = job.listed(run.outcome, result) if job is not None else Listed(run.outcome)
    parts = {"said": words.said, "label": words.label, "items": list(words.items)}
    return {
        "id": run.id,
        "job": run.job,
        "trigger": run.trigger,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration_s": duration,
        "outcome": run.outcome,
        "error": run.error,
        "result": result,
        "summary": words.words(),
        "summary_list": parts if words.items else None,
    }


class JobRunStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def start(self, job: str, trigger: str, at: datetime, *, outcome: str = "running") -> JobRun:
        run = JobRun(job=job, trigger=trigger, started_at=at, outcome=outcome)
        async with self.db.sessions() as session:
            session.add(run)
            await session.commit()
            await session.refresh(run)
            return run

    async def finish(
        self, run_id: int, *, at: datetime, outcome: str, error: str | None = None, result: Any = None
    ) -> None:
        values = {
            "finished_at": at,
            "outcome": outcome,
            "error": error,
            "result": json.dumps(result, default=str) if result is not None else None,
        }
        async with self.db.sessions() as session:
            await session.exec(update(JobRun).where(col(JobRun.id) == run_id).values(**values))
            await session.commit()

    async def mark_interrupted(self, at: datetime) -> list[JobRun]:
        """Runs left "running" by a daemon that died: they are over, and did not finish. Returns them."""
        async with self.db.sessions() as session:
            left = list((await session.exec(select(JobRun).where(col(JobRun.outcome) == "running"))).all())
            if left:
                await session.exec(
                    update(JobRun)
                    .where(col(JobRun.id).in_([run.id for run in left]))
                    .values(outcome="interrupted", finished_at=at, error="the daemon stopped during the run")
                )
                await session.commit()
            return left

    async def recent(self, job: str | None = None, limit: int = 20) -> list[JobRun]:
        query = select(JobRun).order_by(col(JobRun.id).desc()).limit(limit)
        if job is not None:
            query = query.where(col(JobRun.job) == job)
        async with self.db.sessions() as session:
            return list((await session.exec(query)).all())

    async def last_started(self, jobs: list[str]) -> dict[str, datetime]:
        """When the newest run of each of ``jobs`` that really started (any outcome but "skipped") began,
        on the wall clock: what paces a heavy job on simulated time, across daemon restarts."""
        started = col(JobRun.outcome) != "skipped"
        named = col(JobRun.job).in_(jobs)
        latest = select(func.max(JobRun.id)).where(started, named).group_by(col(JobRun.job))
        async with self.db.sessions() as session:
            rows = (await session.exec(select(JobRun).where(col(JobRun.id).in_(latest)))).all()
            return {run.job: run.started_at for run in rows}

    async def last_per_job(self) -> dict[str, JobRun]:
        latest = select(func.max(JobRun.id)).group_by(col(JobRun.job))
        async with self.db.sessions() as session:
            rows = (await session.exec(select(JobRun).where(col(JobRun.id).in_(latest)))).all()
            return {run.job: run for run in rows}

    async def prune(self, keep: int) -> int:
        """Delete all but the newest ``keep`` runs of each job; returns how many were deleted."""
        rank = func.row_number().over(partition_by=col(JobRun.job), order_by=col(JobRun.id).desc())
        ranked = select(col(JobRun.id).label("id"), rank.label("rank")).subquery()
        older = select(ranked.c.id).where(ranked.c.rank > keep)
        async with self.db.sessions() as session:
            result = await session.exec(delete(JobRun).where(col(JobRun.id).in_(older)))
            await session.commit()
            return int(result.rowcount or 0)


def interrupted_runs(runs: list[JobRun]) -> str:
    """What the previous daemon's end cut short, in words: each run with its id and start, and how to run
    the job again (it is not started again by itself: its next run is the next on its schedule)."""
    from mastertrade.utc import iso

    def one(run: JobRun) -> str:
        started = iso(run.started_at, "seconds")
        return f"{run.job} (run {run.id}, {run.trigger}, started {started})"

    names = list(dict.fromkeys(run.job for run in runs))
    again = "; ".join(f"`mt daemon run {name}`" for name in names)
    return (
        f"The previous daemon's end interrupted {', '.join(one(run) for run in runs)}. What it had stored"
        f" is kept; it is not run again by itself (its next run is the next on its schedule): {again}"
        " runs it now."
    )
