"""SIGTERM ends a command as Ctrl-C does.

``timeout``, cron wrappers, systemd and ``kill`` stop a process with SIGTERM, whose default action ends
it on the spot: a ``mt generate`` killed that way left its run "running" for ever, with no message and
no outcome, as a crash does. Under ``terminated_as_interrupt`` a SIGTERM is handed to whatever handles
SIGINT at that moment, so it takes Ctrl-C's path everywhere Ctrl-C already ends cleanly: inside
``asyncio.run`` the command's task is cancelled (its run is recorded "cancelled", a training thread
stops, nothing half-stored is kept), a block that defers Ctrl-C (a LocalCluster starting) defers it
too, and elsewhere ``KeyboardInterrupt`` is raised. The root command then says so in one line and ends
with 143 (128 + SIGTERM), as Ctrl-C ends with 130.

The daemon keeps its own handling: it installs its SIGTERM handler on its event loop, over this one,
and one it leaves behind (ignoring a late SIGTERM while it releases its locks) is not undone here.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

#: The exit code of a command ended by SIGTERM (the shell's 128 + signal number).
EXIT_CODE = 128 + signal.SIGTERM

# The command's asyncio task (``cli.runtime.run``) and the list that says a SIGTERM cancelled it
_tasks: list[tuple[asyncio.Task[None], list[bool]]] = []


@contextmanager
def cancelled_on_sigterm(task: asyncio.Task[None]) -> Iterator[list[bool]]:
    """Within the block, a SIGTERM that finds SIGINT ignored cancels ``task`` (asyncio's runner cancels
    it on SIGINT only when SIGINT has Python's default handler); the list it yields then holds True."""
    cancelled: list[bool] = []
    _tasks.append((task, cancelled))
    try:
        yield cancelled
    finally:
        _tasks.remove((task, cancelled))


@contextmanager
def terminated_as_interrupt() -> Iterator[list[int]]:
    """Within the block, SIGTERM interrupts as SIGINT does; the list it yields then holds SIGTERM.

    Only the main thread receives signals; elsewhere (a command invoked from a worker thread) the block
    runs as it is."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler):
            handler(signal.SIGINT, frame)
            return
        # SIGINT ignored (a job a non-interactive shell started with &) or left to the system: a SIGTERM
        # still ends the command through its clean-up, cancelling its task as asyncio's Ctrl-C does (a
        # KeyboardInterrupt raised inside the event loop would leave its tasks half-done)
        if _tasks and not _tasks[-1][0].done():
            task, cancelled = _tasks[-1]
            cancelled.append(True)
            task.cancel()
            task.get_loop().call_soon_threadsafe(lambda: None)  # wake the loop from its wait
            return
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield received
    finally:
        if signal.getsignal(signal.SIGTERM) is on_sigterm:
            signal.signal(signal.SIGTERM, previous)
