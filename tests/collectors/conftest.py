"""Fixtures of the collector tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from tests.collectors.helpers import Handler, client_for


@pytest.fixture
async def http() -> AsyncIterator[Callable[[Handler], httpx.AsyncClient]]:
    """Build mock-transport clients; all of them are closed after the test."""
    clients: list[httpx.AsyncClient] = []

    def make(handler: Handler) -> httpx.AsyncClient:
        client = client_for(handler)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
