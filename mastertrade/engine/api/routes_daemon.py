"""``GET /v1/health``: a liveness probe; ``POST /v1/daemon/stop``: a graceful stop (the same as
SIGTERM); ``GET /metrics``: Prometheus."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mastertrade.engine.api.deps import Ctx
from mastertrade.engine.api.schemas import HealthReport, StopResponse

router = APIRouter(tags=["daemon"])


@router.get(
    "/v1/health",
    response_model=HealthReport,
    summary="Liveness: answers from the event loop without asking any service (for probes and scripts)",
)
async def health(ctx: Ctx) -> HealthReport:
    return HealthReport(ok=not ctx.stopping.is_set(), pid=ctx.state.pid)


@router.post(
    "/v1/daemon/stop", response_model=StopResponse, status_code=202, summary="Stop the daemon gracefully"
)
async def stop(ctx: Ctx) -> StopResponse:
    ctx.request_stop("stop requested through the API")
    return StopResponse(stopping=True, pid=ctx.state.pid)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
    summary="Prometheus metrics",
)
async def metrics(request: Request) -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST

    metrics = request.app.state.metrics
    await metrics.refresh()
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
