"""Shared helpers of the collector tests: settings, a mock HTTP client, a fixed clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from mastertrade.config import CollectorsSettings

NOW = int(datetime(2024, 3, 15, 12, 30, tzinfo=UTC).timestamp() * 1000)
"""A fixed "now" for the collectors: 2024-03-15 12:30 UTC (a Friday)."""
HOUR = 3_600_000
DAY = 86_400_000

Handler = Callable[[httpx.Request], httpx.Response]


def settings(**overrides: Any) -> CollectorsSettings:
    return CollectorsSettings(**overrides)


def client_for(handler: Handler) -> httpx.AsyncClient:
    """An AsyncClient whose every request is answered by ``handler`` (no socket is opened)."""
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


class Recorder:
    """A MockTransport handler that answers by path and records every request."""

    def __init__(self, routes: dict[str, Callable[[httpx.Request], httpx.Response] | httpx.Response]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for prefix, answer in self.routes.items():
            if f"{request.url.host}{request.url.path}".startswith(prefix) or request.url.path.startswith(
                prefix
            ):
                return answer(request) if callable(answer) else answer
        return httpx.Response(404, text="not found")

    def paths(self) -> list[str]:
        return [request.url.path for request in self.requests]
