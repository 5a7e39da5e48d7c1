"""Training in a worker thread that stops when the command (or the daemon job) awaiting it is cancelled.

``asyncio.to_thread`` cannot stop its thread. A Ctrl-C cancels the awaiting coroutine, but the thread
trains on to its end while ``asyncio.run`` waits for it on the way out (a walk-forward or a PPO run:
minutes after the user was told "interrupted"), and what the thread does last still happens: ``mt rl
train`` stored the policy it had been told to stop, without recording it as a trial of the series.
Here the work is handed a ``check`` to call between its units (a retraining, a round of PPO steps) and
before it stores anything: once the awaiting coroutine is cancelled, ``check`` raises :class:`Stopped`
and the thread unwinds at its next call. Nobody sees that exception: the await it would have ended
was already cancelled.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

Check = Callable[[], None]
"""Called by the work between its units; raises :class:`Stopped` once the caller was cancelled."""


class Stopped(Exception):
    """Raised inside the worker thread by ``check`` once the coroutine awaiting the work was cancelled."""


async def run_stoppable[T](work: Callable[[Check], T]) -> T:
    """``work(check)`` in a worker thread; cancelling the caller makes the next ``check()`` raise."""
    stop = threading.Event()

    def check() -> None:
        if stop.is_set():
            raise Stopped("the training was cancelled")

    try:
        return await asyncio.to_thread(work, check)
    except asyncio.CancelledError:
        stop.set()
        raise
