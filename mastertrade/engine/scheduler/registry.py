"""Jobs the scheduler can run, by name.

A job is an async function ``job(ctx, run) -> dict | None``: ``ctx`` is the daemon's
``EngineContext``, ``run`` a ``JobRun`` handle for reporting progress (``run.progress(done, total,
"message")`` publishes ``JobProgress`` events); the returned dict is stored as the run's result.
Raising marks the run "error" (the message is stored); cancellation (the daemon's stop deadline)
marks it "cancelled", so a long job should checkpoint its work in ``except CancelledError``/``finally``.

Register a job in ``mastertrade.engine.services.build_jobs`` with one line:

    jobs.add("nightly_generation", run_nightly_generation, "Generate, test and promote strategies")

and give it a schedule in ``[scheduler] jobs`` (the default config already names nightly_generation,
data_refresh, risk_metrics and goal_snapshots). ``available`` may say why a job cannot run in this
configuration (e.g. data_refresh with a simulated venue): it then shows as unavailable and is skipped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mastertrade.engine.events import JobProgress
from mastertrade.errors import NotFound

if TYPE_CHECKING:
    from mastertrade.engine.services.base import EngineContext

JobFunc = Callable[["EngineContext", "JobRun"], Awaitable[dict[str, Any] | None]]
Availability = Callable[["EngineContext"], str | None]


@dataclass(frozen=True)
class Job:
    name: str
    func: JobFunc
    description: str
    available: Availability | None = None

    def unavailable_reason(self, ctx: EngineContext) -> str | None:
        return self.available(ctx) if self.available is not None else None


class JobRun:
    """The handle a running job reports through."""

    def __init__(self, ctx: EngineContext, job: str, run_id: int, trigger: str) -> None:
        self.ctx = ctx
        self.job = job
        self.run_id = run_id
        self.trigger = trigger

    def progress(self, done: float, total: float | None = None, message: str = "") -> None:
        self.ctx.bus.publish(
            JobProgress(job=self.job, run_id=self.run_id, done=done, total=total, message=message)
        )


class JobRegistry:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}

    def add(
        self, name: str, func: JobFunc, description: str, *, available: Availability | None = None
    ) -> Job:
        if name in self._jobs:
            raise ValueError(f"job {name!r} is registered twice")
        job = Job(name, func, description, available)
        self._jobs[name] = job
        return job

    def get(self, name: str) -> Job:
        try:
            return self._jobs[name]
        except KeyError:
            known = ", ".join(sorted(self._jobs)) or "none"
            raise NotFound(f"no job {name!r} (known jobs: {known})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._jobs

    def __iter__(self) -> Iterator[Job]:
        return iter(self._jobs.values())

    def names(self) -> list[str]:
        return list(self._jobs)
