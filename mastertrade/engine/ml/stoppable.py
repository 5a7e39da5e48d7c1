"""Training in a worker thread that stops when the command (or the daemon job) awaiting it is cancelled.

``asyncio.to_thread`` cannot stop its thread. A Ctrl-C cancels the awaiting coroutine, but the thread
trains on to its end while ``asyncio.run`` waits for it on the way out (a walk-forward or a PPO run:
minutes after the user was told "interrupted"), and what the thread does last still happens: ``mt rl
train`` stored the policy it had been told to stop, without recording it as a trial of the series.
Here the work is handed a ``check`` to call between its units (a retraining, a round of PPO steps) and
before it stores anything: once the awaiting coroutine is cancelled, ``check`` raises :class:`Stopped`
and the thread unwinds at its next call. Nobody sees that exception: the await it would have ended
was already cancelled.

Some work cannot call ``check`` for a while: JAX compiling a model the first time (20 s under load), a
fit inside a library. So the thread is the work's own, not the event loop's default executor, which
``asyncio.run`` joins on its way out: a cancelled caller goes on at once, the command says "interrupted"
and the CLI's entry point ends the process (without waiting for such a thread, :func:`running`; it has
nothing left to store). Run in-process (the daemon, a test), the thread ends at its next ``check``, and
the interpreter waits for it at exit as it did for the executor's.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

Check = Callable[[], None]
"""Called by the work between its units; raises :class:`Stopped` once the caller was cancelled."""

_THREAD_NAME = "mt-stoppable"


class Stopped(Exception):
    """Raised inside the worker thread by ``check`` once the coroutine awaiting the work was cancelled."""


def running() -> list[threading.Thread]:
    """The worker threads still running, of callers cancelled (or still awaiting them)."""
    return [thread for thread in threading.enumerate() if thread.name.startswith(_THREAD_NAME)]


async def run_stoppable[T](work: Callable[[Check], T]) -> T:
    """``work(check)`` in a worker thread; cancelling the caller returns at once and makes the next
    ``check()`` raise."""
    stop = threading.Event()
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()

    def check() -> None:
        if stop.is_set():
            raise Stopped("the training was cancelled")

    def hand_over(outcome: Callable[[], Any]) -> None:
        def settle() -> None:
            if not done.done():  # cancelled with its caller: nobody waits for the outcome any more
                outcome()

        try:
            loop.call_soon_threadsafe(settle)
        except RuntimeError:
            pass  # the loop has closed: its caller was cancelled and has gone

    def target() -> None:
        try:
            value = context.run(work, check)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine, raised there
            hand_over(partial(done.set_exception, exc))
        else:
            hand_over(partial(done.set_result, value))

    threading.Thread(target=target, name=f"{_THREAD_NAME}-{id(done):x}").start()
    try:
        return await done
    except asyncio.CancelledError:
        stop.set()
        raise
