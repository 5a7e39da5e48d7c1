"""The API as supervised services: uvicorn on the Unix socket ("api") and, when ``[api] tcp_port`` is
set, on 127.0.0.1 with a bearer token ("api-tcp").

Each binds its own listening socket (so a busy TCP port crashes only "api-tcp", which the supervisor
retries, while the Unix socket keeps serving) and runs uvicorn inside the daemon's event loop, without
uvicorn's signal handling (the daemon owns SIGTERM/SIGINT). Cancelled at daemon stop, it ends the
open event streams, lets uvicorn finish the requests in flight and closes the socket.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from mastertrade.errors import OperationFailed
from mastertrade.locations import ensure_private_dir

if TYPE_CHECKING:
    from fastapi import FastAPI

    from mastertrade.engine.kernel.context import EngineContext

log = logging.getLogger(__name__)

_GRACE_S = 3.0


def bind_unix(path: Path) -> socket.socket:
    """A listening Unix socket at ``path``, mode 0600 in a 0700 folder (an old file is replaced: the
    caller holds the daemon lock, so it cannot belong to a live daemon)."""
    ensure_private_dir(path.parent)
    path.unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.umask(0o177)  # born 0600: never readable by others, not even for a moment
    try:
        sock.bind(str(path))
    except BaseException:
        sock.close()
        raise
    finally:
        os.umask(previous)
    os.chmod(path, 0o600)
    sock.listen(128)
    sock.setblocking(False)
    return sock


def bind_tcp(port: int, host: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    sock.listen(128)
    sock.setblocking(False)
    return sock


class ApiServer:
    """One uvicorn server for ``app`` on the socket ``bind()`` returns."""

    def __init__(self, name: str, app: FastAPI, bind: Callable[[], socket.socket], where: str) -> None:
        self.name = name
        self.app = app
        self.bind = bind
        self.where = where

    async def run(self, ctx: EngineContext) -> None:
        import uvicorn

        class _Server(uvicorn.Server):
            @contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield  # the daemon handles signals itself

        config = uvicorn.Config(
            self.app,
            lifespan="off",
            log_config=None,
            access_log=False,
            http="h11",
            server_header=False,
            date_header=False,
            timeout_graceful_shutdown=int(_GRACE_S),
        )
        server = _Server(config)
        try:
            sock = self.bind()
        except OSError as exc:  # a busy or forbidden port: said in one line, retried by the supervisor
            raise OperationFailed(f"cannot listen on {self.where}: {exc.strerror or exc}") from None
        log.info("API listening on %s", self.where)
        serving = asyncio.create_task(server.serve(sockets=[sock]), name=f"uvicorn-{self.name}")
        try:
            await asyncio.shield(serving)
        except asyncio.CancelledError:
            server.should_exit = True
            for stream in list(self.app.state.streams):
                stream.close()
            done, _ = await asyncio.wait({serving}, timeout=_GRACE_S + 2)
            if not done:
                serving.cancel()
            raise
        finally:
            sock.close()
