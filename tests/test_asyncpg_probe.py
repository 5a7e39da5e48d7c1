"""A Postgres connect cancelled during asyncpg's TLS probe leaves no ERROR behind (``db/asyncpg_probe.py``).

The cancel is made to land where it does in a stopping daemon: after the TCP connection exists, at
``loop.create_connection``'s last await. The server is a listening socket nobody accepts from (the kernel
completes the handshake), on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from mastertrade.config import Settings
from mastertrade.db.asyncpg_probe import quiet_probe_leak
from mastertrade.db.database import Database

REPORT = "Future exception was never retrieved"


@pytest.fixture
def silent_server() -> Iterator[int]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


def cancel_after_connecting(loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch) -> None:
    """``create_connection`` cancelled at its last await: the protocol exists, the transport is closed."""
    real = loop.create_connection

    async def create_connection(factory: Any, *args: Any, **kwargs: Any) -> Any:
        transport, _protocol = await real(factory, *args, **kwargs)
        transport.close()
        raise asyncio.CancelledError

    monkeypatch.setattr(loop, "create_connection", create_connection)


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)  # connection_lost runs on the loop
    gc.collect()


def reports(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == level and REPORT in r.getMessage()]


async def test_asyncpg_still_leaks_the_probe_without_the_handler(
    silent_server: int, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The leak this works around, seen with the installed asyncpg: when this fails, asyncpg fixed it
    and ``db/asyncpg_probe.py`` can go."""
    import asyncpg

    cancel_after_connecting(asyncio.get_running_loop(), monkeypatch)
    with pytest.raises(asyncio.CancelledError):
        await asyncpg.connect(host="127.0.0.1", port=silent_server, user="mt", ssl="prefer")
    with caplog.at_level(logging.DEBUG, logger="asyncio"):
        await settle()
    assert reports(caplog, logging.ERROR)


async def test_a_cancelled_postgres_open_logs_no_error(
    silent_server: int, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings.model_validate(
        {"db": {"url": f"postgresql+asyncpg://mt@127.0.0.1:{silent_server}/mt"}}
    )
    cancel_after_connecting(asyncio.get_running_loop(), monkeypatch)
    with pytest.raises(asyncio.CancelledError):
        await Database.open(settings)
    with caplog.at_level(logging.DEBUG):
        await settle()
    assert not reports(caplog, logging.ERROR)
    assert any("TLS probe" in r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)


async def test_other_unretrieved_errors_still_reach_the_previous_handler() -> None:
    loop = asyncio.get_running_loop()
    seen: list[dict[str, Any]] = []
    before = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: seen.append(context))
    try:
        quiet_probe_leak(loop)
        quiet_probe_leak(loop)  # once per loop: the second call does not wrap the first
        leaked = loop.create_future()
        leaked.set_exception(ConnectionError("unexpected connection_lost() call"))
        other = loop.create_future()
        other.set_exception(ConnectionError("reset by peer"))
        del leaked, other
        gc.collect()
        assert [str(c["exception"]) for c in seen] == ["reset by peer"]
    finally:
        loop.set_exception_handler(before)
