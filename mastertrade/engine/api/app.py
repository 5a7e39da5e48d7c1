"""The API application factory and the list of routers it serves."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from mastertrade import __version__
from mastertrade.engine.api import (
    routes_alerts,
    routes_daemon,
    routes_events,
    routes_features,
    routes_fills,
    routes_jobs,
    routes_logs,
    routes_market,
    routes_status,
    routes_strategies,
    routes_trading,
)
from mastertrade.engine.api.auth import BearerTokenMiddleware
from mastertrade.engine.api.body_limit import BodyLimitMiddleware
from mastertrade.engine.api.errors import CatchAllMiddleware, install_error_handlers
from mastertrade.engine.api.metrics import ApiMetrics, MetricsMiddleware
from mastertrade.engine.api.openapi_errors import document
from mastertrade.engine.kernel.context import EngineContext

# Every area's router; a new area appends its own (see the package docstring).
ROUTERS: list[APIRouter] = [
    routes_status.router,
    routes_market.router,
    routes_features.router,
    routes_jobs.router,
    routes_alerts.router,
    routes_events.router,
    routes_daemon.router,
    routes_trading.router,
    routes_fills.router,
    routes_strategies.router,
    routes_logs.router,
]

DESCRIPTION = """The MasterTrade engine daemon's API: HTTP/1.1 over a Unix socket (`mt config path` shows
it; `curl --unix-socket PATH http://mt/v1/status`). Every error is
`{"error": {"code": ..., "message": ...}}` with a 4xx/5xx status. Live events stream as
Server-Sent Events from `/v1/events`."""


def head_routes(app: FastAPI, routes: list[APIRoute]) -> list[APIRoute]:
    """Answer HEAD wherever GET is answered (RFC 9110: the same status and headers, no body), as
    Starlette's own routes do and FastAPI's do not (fastapi#1773): each GET route gets a HEAD twin with
    the same handler and dependencies, left out of the OpenAPI document (HEAD is implied by GET there).
    Starlette's responses send the headers alone for HEAD, so a stream's generator (``/v1/events``) is
    never started."""
    twins = []
    for route in routes:
        if "GET" not in (route.methods or ()):
            continue
        app.add_api_route(
            route.path,
            route.endpoint,
            methods=["HEAD"],
            response_model=route.response_model,
            status_code=route.status_code,
            dependencies=route.dependencies,
            response_class=route.response_class,
            name=f"{route.name}_head",
            include_in_schema=False,
        )
        twin = app.router.routes[-1]
        assert isinstance(twin, APIRoute)
        twins.append(twin)
    return twins


def create_app(ctx: EngineContext, *, token: str | None = None) -> FastAPI:
    """The API for ``ctx``; with ``token`` every request must carry it as a bearer token (TCP)."""
    app = FastAPI(
        title="MasterTrade daemon",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.ctx = ctx
    app.state.streams = set()
    metrics = ctx.find(ApiMetrics) or ctx.provide(ApiMetrics(ctx))
    app.state.metrics = metrics
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    routes = [route for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)]
    app.state.routes = routes + head_routes(app, routes)
    document(app.state.routes)
    app.add_middleware(CatchAllMiddleware)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    if token is not None:
        app.add_middleware(BearerTokenMiddleware, token=token)
    return app
