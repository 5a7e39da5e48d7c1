"""``/v1/jobs``: scheduled jobs with their last runs; the run history of one job; starting a run."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from mastertrade.engine.api.deps import Ctx
from mastertrade.engine.api.openapi_errors import raises
from mastertrade.engine.api.schemas import JobInfo, JobRunInfo
from mastertrade.engine.scheduler.service import SchedulerService

router = APIRouter(tags=["jobs"])

JobName = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


@router.get(
    "/v1/jobs",
    response_model=list[JobInfo],
    responses=raises(409),
    summary="Jobs, their schedules and last runs",
)
async def jobs(ctx: Ctx) -> list[JobInfo]:
    return [JobInfo.model_validate(job) for job in await ctx.get(SchedulerService).jobs_info()]


@router.get(
    "/v1/jobs/{name}/runs",
    response_model=list[JobRunInfo],
    responses=raises(409),
    summary="Recent runs of a job",
)
async def job_runs(
    ctx: Ctx, name: JobName, limit: Annotated[int, Query(ge=1, le=1000)] = 20
) -> list[JobRunInfo]:
    scheduler = ctx.get(SchedulerService)
    if name not in ctx.jobs and name not in scheduler.schedules():
        ctx.jobs.get(name)  # raises NotFound naming the known jobs
    runs = await scheduler.runs.recent(name, limit)
    return [JobRunInfo.model_validate(scheduler.describe(run)) for run in runs]


@router.post(
    "/v1/jobs/{name}/run",
    response_model=JobRunInfo,
    status_code=202,
    responses=raises(409),
    summary="Start a run now (409 when it cannot run here or is already running)",
)
async def run_job(ctx: Ctx, name: JobName) -> JobRunInfo:
    return JobRunInfo.model_validate(await ctx.get(SchedulerService).start_job(name, trigger="manual"))
