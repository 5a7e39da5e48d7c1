"""A cap on request bodies: larger than ``MAX_BODY_BYTES`` is a 413 ``payload_too_large`` JSON error.

Every body the API takes is a small JSON document (an order, an alert rule, a goal: well under a
kilobyte). Without a cap, one client sending a 50 MB body held the daemon's event loop, which is also
the trading loop, for seconds while it was read, parsed and validated, and had it echoed back whole in
the validation error. A body announced larger (``Content-Length``) is refused before any of it is
read; one sent in chunks without a length is refused as soon as it passes the cap.

Starlette's own limiter (``FastAPI(max_body_size=...)``) answers in plain text on some paths and
ends others through exceptions that the catch-all logs as failures, so the API keeps its own.

The body let through is also kept in the request's scope (``BODY_KEY``), so an error handler can
recognise the values the request carried and quote them shortened (``errors.BODY_KEY``).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mastertrade.engine.api.errors import BODY_KEY, error_response

MAX_BODY_BYTES = 1 << 20
"""1 MiB: a thousand times the largest request the API serves, far below what strains the loop."""


def too_large(limit: int) -> str:
    return f"the request body is larger than the API's limit of {limit:,} bytes"


class BodyLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` with a 413 JSON error."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        announced = dict(scope["headers"]).get(b"content-length", b"")
        if announced.isdigit() and int(announced) > self.max_bytes:
            await error_response(413, "payload_too_large", too_large(self.max_bytes))(scope, receive, send)
            return
        received = 0
        chunks: list[bytes] = []
        scope[BODY_KEY] = chunks

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > self.max_bytes:
                    # FastAPI lets an HTTPException raised while reading the body through to the
                    # API's HTTP error handler (any other exception becomes its own 400).
                    raise HTTPException(413, too_large(self.max_bytes))
                chunks.append(chunk)
            return message

        await self.app(scope, limited_receive, send)
