"""The bearer token of the optional TCP listener.

The Unix socket needs no token: only its owner can open it (mode 0600 in a 0700 folder). TCP on
127.0.0.1 is reachable by every local user, so it requires ``Authorization: Bearer <token>``. The
token is ``[api] token`` (or ``MT_API__TOKEN``) when set; otherwise the daemon generates one into
``api-token`` beside the socket (mode 0600), where ``mt`` and the TUI read it. It is never logged.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from mastertrade.config import Settings
from mastertrade.locations import ensure_private_dir, locations


def token_file() -> Path:
    return locations().socket_file.parent / "api-token"


def read_token(settings: Settings) -> str | None:
    """The token a client should send over TCP, if one is configured or was generated."""
    if settings.api.token is not None:
        return settings.api.token.get_secret_value()
    path = token_file()
    return path.read_text(encoding="utf-8").strip() if path.exists() else None


def ensure_token(settings: Settings) -> str:
    """The daemon's token: the configured one, or a generated one written 0600 beside the socket."""
    existing = read_token(settings)
    if existing:
        return existing
    path = token_file()
    ensure_private_dir(path.parent)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return token


class BearerTokenMiddleware:
    """Rejects requests without the right bearer token with a 401 JSON error."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                from mastertrade.engine.api.errors import error_response

                response = error_response(
                    401,
                    "unauthorized",
                    "missing or wrong bearer token (see [api] token or the api-token file beside the socket)",
                    {"WWW-Authenticate": "Bearer"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
