"""Quiet one known asyncpg leak: a connect cancelled while its TLS probe is in flight.

asyncpg asks a Postgres server whether it speaks TLS (``sslmode=prefer``, its default) through a throwaway
protocol whose ``on_data`` future waits for the one-byte answer. When the connect is cancelled after the
TCP connection exists but before ``loop.create_connection`` returns (a service stopping, a timeout), the
transport is closed, the protocol sets ``ConnectionError("unexpected connection_lost() call")`` on a future
nobody will ever await, and asyncio logs "Future exception was never retrieved" at ERROR when the future is
collected: in the daemon's log, or in whatever a command prints next. Nothing failed that the cancelled
caller has not already been told; asyncpg 0.32 guards its own ``connected`` future against this, not the
probe's (``connect_utils._create_ssl_connection``; upstream MagicStack/asyncpg#1310 and #1211 are about the
same probe's error). No library option avoids it short of turning TLS off, which is the user's choice.

This file is written by hand because the fix belongs upstream: only that exact, ownerless report is
logged at debug; every other unhandled loop error reaches the handler it would have reached.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)

LEAKED = "unexpected connection_lost() call"
_MARK = "_mastertrade_asyncpg_probe"


def quiet_probe_leak(loop: asyncio.AbstractEventLoop) -> None:
    """Install, once per loop, an exception handler that logs the probe's leaked future at debug and
    passes everything else on (to the handler that was there, or asyncio's default)."""
    previous = loop.get_exception_handler()
    if getattr(previous, _MARK, False):
        return

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if is_probe_leak(context):
            log.debug("asyncpg left a cancelled connect's TLS probe unread: %s", context.get("exception"))
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    setattr(handler, _MARK, True)
    loop.set_exception_handler(handler)


def is_probe_leak(context: dict[str, Any]) -> bool:
    """True for asyncio's report of the probe's future, collected with its exception unread."""
    exc = context.get("exception")
    return (
        context.get("message") == "Future exception was never retrieved"
        and type(exc) is ConnectionError
        and str(exc) == LEAKED
        and isinstance(context.get("future"), asyncio.Future)
        and not isinstance(context.get("future"), asyncio.Task)
    )
