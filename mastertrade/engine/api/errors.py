"""Every API error is ``{"error": {"code": ..., "message": ...}}`` with a 4xx/5xx status, never a
traceback: MasterTrade errors, validation errors, malformed JSON, unknown routes, wrong methods and
unexpected exceptions alike (the last ones are logged with their traceback, and answered 500; a database
that cannot be used, down, full or locked, is answered 503 ``database_unavailable`` naming why). A request
the daemon refuses because it is stopping answers 503 ``daemon_not_running``: nothing of it was done.

The code of a MasterTrade error is its class name in snake case (``NotFound`` -> ``not_found``,
``RiskRejected`` -> ``risk_rejected``); the client maps it back to the same class. The status comes
from ``STATUS`` through the class hierarchy, so a new error subclass needs no entry unless its status
differs from its parent's.
"""

from __future__ import annotations

import json
import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mastertrade import errors
from mastertrade.db.trouble import database_trouble
from mastertrade.engine.kernel.context import ServiceStopping
from mastertrade.quoting import LONG_CHARS, shorten_inputs, shown, strings_in

log = logging.getLogger(__name__)

STATUS: dict[type[errors.MasterTradeError], int] = {
    errors.MasterTradeError: 500,
    errors.UserInputError: 400,
    errors.NotFound: 404,
    errors.AlreadyExists: 409,
    errors.DataValidationError: 422,
    errors.InvalidGenome: 422,
    errors.OperationFailed: 409,
    errors.DatabaseUnavailable: 503,
    errors.RetryableError: 503,
    errors.FatalError: 502,
}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}


def error_code(kind: type[BaseException]) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind.__name__).lower()


def status_of(exc: errors.MasterTradeError) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 500


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


BODY_KEY = "mastertrade.body"
"""Where in the ASGI scope ``BodyLimitMiddleware`` keeps the chunks of the request body it let through."""


def request_inputs(request: Request) -> list[str]:
    """Every string the request carried: path and query parameters and the JSON body's strings (the
    body as ``BodyLimitMiddleware`` let it through; its raw text when it is not JSON)."""
    inputs = [*request.path_params.values(), *request.query_params.values(), request.url.path]
    chunks = request.scope.get(BODY_KEY)
    if chunks:
        raw = b"".join(chunks).decode("utf-8", "replace")
        try:
            inputs += strings_in(json.loads(raw))
        except ValueError:
            inputs.append(raw)
    return [str(value) for value in inputs]


def shortened(request: Request, message: str) -> str:
    """``message`` with every long value of the request in it quoted in part (``mastertrade.quoting``)."""
    if len(message) <= LONG_CHARS:
        return message
    return shorten_inputs(message, request_inputs(request))


def _describe_validation(request: Request, exc: RequestValidationError) -> tuple[int, str, str]:
    problems = exc.errors()
    first = problems[0] if problems else {}
    if first.get("type") == "json_invalid":
        reason = first.get("ctx", {}).get("error", "invalid JSON")
        return 400, "malformed_json", f"the request body is not valid JSON: {reason}"
    if tuple(first.get("loc", ())) == ("body",) and isinstance(first.get("input"), bytes):
        # FastAPI parses a body as JSON only when it is sent as JSON; anything else arrives as bytes.
        sent = request.headers.get("content-type") or "no Content-Type"
        return (
            415,
            "unsupported_media_type",
            f"the request body must be JSON sent with Content-Type: application/json (got {sent})",
        )
    loc = [str(part) for part in first.get("loc", ())]
    where = {
        "query": "query parameter",
        "path": "path parameter",
        "body": "body field",
        "header": "header",
    }.get(loc[0] if loc else "", "value")
    name = ".".join(loc[1:]) or "body"
    message = first.get("msg", "invalid value")
    if first.get("type") == "missing":
        return 422, "invalid_request", f"{where} {name!r} is required"
    if "input" in first and not isinstance(first["input"], dict | list):
        message = f"{message} (got {shown(first['input'], as_json=True)})"  # as the client wrote it
    return 422, "invalid_request", f"{where} {name!r}: {message}"


def allowed_methods(request: Request) -> list[str]:
    """Every method the API serves at the request's path (``app.state.routes``, the routes of every
    router ``create_app`` included). Starlette's 405 names only the first route that matched the
    path (``Allow: GET`` on ``/v1/goals``, which takes POST too)."""
    path = request.scope["path"]
    methods: set[str] = set()
    for route in getattr(request.app.state, "routes", ()):
        if route.path_regex.match(path):
            methods |= route.methods or set()
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    async def on_mastertrade_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, errors.MasterTradeError)
        return error_response(status_of(exc), error_code(type(exc)), shortened(request, str(exc)))

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        status, code, message = _describe_validation(request, exc)
        return error_response(status, code, shortened(request, message))

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "http_error" if exc.status_code < 500 else "internal_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 404 and exc.detail == "Not Found":
            message = f"no such endpoint: {request.method} {request.url.path} (see /openapi.json)"
        elif exc.status_code == 405:
            message = f"method {request.method} is not allowed on {request.url.path}"
            if methods := allowed_methods(request):
                headers["Allow"] = ", ".join(methods)
        else:
            message = str(exc.detail)
        return error_response(exc.status_code, code, shortened(request, message), headers)

    async def on_stopping(request: Request, exc: Exception) -> JSONResponse:
        # a request that came in as the daemon stops: refused before its work began (``ctx.work``), so
        # nothing was done; said as such, not as an internal error with a traceback in the log
        message = f"the daemon is stopping: {exc} not started (nothing was done); start it again and retry"
        return error_response(503, error_code(errors.DaemonNotRunning), message)

    app.add_exception_handler(errors.MasterTradeError, on_mastertrade_error)
    app.add_exception_handler(ServiceStopping, on_stopping)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)


class CatchAllMiddleware:
    """Turns any exception that escaped the routes into a logged 500 JSON error.

    Starlette's own handler for bare exceptions answers and then re-raises (so servers can log it);
    catching here keeps the traceback in our log and out of the response and the server's output.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            trouble = database_trouble(exc)
            if trouble is None:
                log.error("%s %s failed", scope.get("method"), scope.get("path"), exc_info=exc)
            else:  # the machine's state, not a bug: no traceback
                log.warning(
                    "%s %s failed: the database cannot be used: %s",
                    scope.get("method"),
                    scope.get("path"),
                    trouble,
                )
            if started:
                return  # a streaming response already began: all we can do is end it
            if trouble is None:
                response = error_response(
                    500, "internal_error", f"internal error ({type(exc).__name__}); see the daemon log"
                )
            else:
                # said as what it is, not as "internal error (ConnectionRefusedError)"
                response = error_response(
                    503,
                    error_code(errors.DatabaseUnavailable),
                    f"the daemon's database cannot be used: {trouble} (see `mt daemon logs`)",
                )
            await response(scope, receive, send)
