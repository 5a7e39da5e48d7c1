"""Why the database cannot be used right now, in one line, when that is the environment's doing.

The server is down, restarting or unreachable; the disk is full; the file system is read-only; another
process holds the SQLite file locked longer than the busy timeout. None of these is a bug, and each
reached the operator as one: a command printed a Python traceback, the API answered "internal error
(ConnectionRefusedError); see the daemon log", and a crashed service's last error (in ``mt status`` and
the alert on the phone) was an ``ExceptionGroup`` or the SQL statement with its parameters. Callers ask
:func:`database_trouble` and say its line instead: the CLI as ``mt: error: ...`` (exit 1), the API as a
503, the supervisor as the service's last error.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator

# SQLite's own words for a database it cannot write or open (sqlite3.OperationalError)
_SQLITE = (
    "database or disk is full",
    "database is locked",
    "attempt to write a readonly database",
    "disk i/o error",
    "unable to open database file",
)
# PostgreSQL and asyncpg for a server that is gone, going or out of room
_POSTGRES = (
    "connection is closed",
    "connection was closed",
    "terminating connection",
    "the database system is",  # ... starting up / shutting down / in recovery mode
    "server closed the connection",
    "no space left on device",
    "could not extend file",
    "read-only transaction",
)
# what connecting to a server that is down or unreachable raises (asyncpg does not wrap it)
_NETWORK = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ETIMEDOUT,
    errno.EPIPE,
}


def database_trouble(exc: BaseException) -> str | None:
    """The reason (the driver's first line) when ``exc``, or an exception it wraps or groups, says the
    database cannot be used now; None for anything else (a bug keeps its traceback)."""
    for cause in _causes(exc):
        reason = _reason(cause)
        if reason is not None:
            return reason
    return None


def first_line(exc: BaseException) -> str:
    """An error's first line without SQLAlchemy's wrapping: the driver's words, not the SQL statement,
    its parameters and the link SQLAlchemy appends (which also kept a long line out of one table cell)."""
    from sqlalchemy.exc import DBAPIError

    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(cause).strip()
    return text.splitlines()[0] if text else type(cause).__name__


def _reason(exc: BaseException) -> str | None:
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        words = first_line(exc)
        lowered = words.lower()
        if exc.connection_invalidated or any(part in lowered for part in (*_SQLITE, *_POSTGRES)):
            return words
        return None
    if isinstance(exc, OSError) and exc.errno in _NETWORK and _raised_by_driver(exc):
        return first_line(exc)
    return None


def _raised_by_driver(exc: BaseException) -> bool:
    """Whether the database driver's code raised it (a refused connection to the exchange or a webhook
    is not the database's)."""
    traceback = exc.__traceback__
    while traceback is not None:
        filename = traceback.tb_frame.f_code.co_filename
        if "asyncpg" in filename or "sqlalchemy" in filename:
            return True
        traceback = traceback.tb_next
    return False


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, the exceptions of a group (a TaskGroup's), and what each was raised from (``from``; not
    an exception that merely happened while handling another)."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        if current.__cause__ is not None:
            pending.append(current.__cause__)
