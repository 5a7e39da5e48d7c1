"""The supervisor: runs each service as a task and keeps it running.

A service that raises is logged with its traceback, reported on the bus (``ServiceStateChanged`` with
state "crashed", which the ``service_failure`` alert rule turns into an alert) and started again after
a backoff that doubles with each crash in a row (``[daemon] restart_backoff_s`` up to
``restart_backoff_max_s``; a run that lasted ``healthy_after_s`` resets it). Nothing a service does
can end the supervisor or the daemon. A service that returns normally is done and is not restarted.

Stopping is two-phase: first the daemon waits (up to ``[daemon] stop_timeout_s``) until no service is
inside a ``ctx.work`` block, then it cancels the services in reverse start order (the API, started
first, goes last, so clients can watch the others stop) and waits for each to unwind.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mastertrade.db.trouble import database_trouble, first_line
from mastertrade.engine.events import ServiceStateChanged
from mastertrade.engine.kernel.backoff import Backoff
from mastertrade.engine.kernel.context import Service, ServiceStatus, ServiceStopping
from mastertrade.errors import OperationFailed

if TYPE_CHECKING:
    from mastertrade.engine.kernel.context import EngineContext

log = logging.getLogger(__name__)

_UNWIND_TIMEOUT_S = 5.0


def describe_failure(exc: BaseException) -> str:
    """A crashed service's last error, as ``mt status``, the TUI and the ``service_failure`` alert show
    it: what went wrong, not its wrapping. A TaskGroup's ``ExceptionGroup`` ("unhandled errors in a
    TaskGroup (1 sub-exception)") is opened to the errors inside; a database that cannot be used (down,
    full, locked) is said so with the driver's words, without the SQL statement and its parameters."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(dict.fromkeys(describe_failure(inner) for inner in exc.exceptions))
    trouble = database_trouble(exc)
    if trouble is not None:
        return f"the database cannot be used: {trouble}"
    from sqlalchemy.exc import DBAPIError

    # SQLAlchemy's text carries the statement, its parameters and a link: the driver's line says it
    return f"{type(exc).__name__}: {first_line(exc) if isinstance(exc, DBAPIError) else exc}"


class Supervisor:
    def __init__(
        self,
        ctx: EngineContext,
        services: Sequence[Service],
        *,
        backoff: Backoff | None = None,
        healthy_after_s: float = 60.0,
    ) -> None:
        names = [service.name for service in services]
        duplicates = {name for name in names if names.count(name) > 1}
        if duplicates:
            raise ValueError(f"services registered twice: {', '.join(sorted(duplicates))}")
        self.ctx = ctx
        self.services = list(services)
        daemon = ctx.settings.daemon
        self.backoff = backoff or Backoff(daemon.restart_backoff_s, daemon.restart_backoff_max_s)
        self.healthy_after_s = healthy_after_s
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def start(self) -> None:
        for service in self.services:
            self.ctx.state.services[service.name] = ServiceStatus(service.name)
            self.tasks[service.name] = asyncio.create_task(
                self._supervise(service), name=f"service-{service.name}"
            )

    def _report(self, status: ServiceStatus, error: str | None = None) -> None:
        self.ctx.bus.publish(
            ServiceStateChanged(
                service=status.name,
                state=status.state,
                restarts=status.restarts,
                error=error,
                backoff_s=status.backoff_s,
            )
        )

    async def _supervise(self, service: Service) -> None:
        ctx = self.ctx
        status = ctx.state.services[service.name]
        crashes = 0  # in a row
        while not ctx.stopping.is_set():
            status.state, status.started_at, status.backoff_s = "running", ctx.clock.now(), None
            self._report(status)
            started = time.monotonic()
            try:
                await service.run(ctx)
            except ServiceStopping:
                break
            except Exception as exc:
                if ctx.stopping.is_set():
                    log.warning("service %s failed while stopping: %s", service.name, exc)
                    break
                healthy = time.monotonic() - started >= self.healthy_after_s
                crashes = 1 if healthy else crashes + 1
                delay = self.backoff.delay(crashes)
                error = describe_failure(exc)
                # a failure the service explained (OperationFailed: a busy port, say) or the database's
                # (down, full, locked) needs no traceback on every retry; anything else is a bug and
                # keeps its traceback
                explained = isinstance(exc, OperationFailed) or database_trouble(exc) is not None
                log.error(
                    "service %s crashed: %s; restarting in %g s",
                    service.name,
                    error,
                    delay,
                    exc_info=None if explained else exc,
                )
                status.restarts += 1
                status.state, status.backoff_s = "crashed", delay
                status.last_error, status.last_error_at = error, ctx.clock.now()
                self._report(status, error)
                status.state = "backoff"
                try:
                    await asyncio.wait_for(ctx.stopping.wait(), delay)
                except TimeoutError:
                    pass
                continue
            log.info("service %s finished", service.name)
            break
        status.state, status.backoff_s = "stopped", None
        self._report(status)

    async def stop(self, deadline_s: float | None = None) -> None:
        """Let running work finish (up to ``deadline_s``), then cancel the services, last started first."""
        ctx = self.ctx
        timeout = ctx.settings.daemon.stop_timeout_s if deadline_s is None else deadline_s
        ctx.request_stop(ctx.stop_reason or "stop requested")
        if not await ctx.wait_idle(timeout):
            log.warning(
                "stop deadline (%g s) passed with work still running: %s; cancelling it",
                timeout,
                ", ".join(sorted(ctx.state.inflight)),
            )
        for service in reversed(self.services):
            task = self.tasks.get(service.name)
            if task is None or task.done():
                continue
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=_UNWIND_TIMEOUT_S)
            if not done:
                log.error(
                    "service %s did not stop within %g s of being cancelled", service.name, _UNWIND_TIMEOUT_S
                )
            status = ctx.state.services[service.name]
            if status.state != "stopped":
                status.state = "stopped"
                self._report(status)
