"""The engine daemon: one process per installation that owns the engine; the CLI and TUI are clients.

Process life (what ``mt daemon start|stop|status`` drive):

- **One daemon.** The pid file is held with an exclusive ``flock`` for the daemon's whole life, so a
  second start fails at once (``DaemonAlreadyRunning``) and a crashed daemon's lock vanishes with its
  process: a pid file nobody holds is stale, and is replaced (the socket too). A pid file that
  existed unlocked at start means the previous run did not stop cleanly: the daemon reports
  "recovered" (status, and a critical ``service_failure`` alert). So does a database lock its holder
  never released: the pid file lives in the runtime folder, a tmpfs (``/run/user``, ``/tmp``) that a
  reboot after a power loss empties, and a cleaner may remove it.
- **Start-up** opens the database (running migrations), opens the venue (``open_venue``), builds the
  ``EngineContext``, starts the API on the Unix socket first, then every service of
  ``build_services`` under the supervisor.
- **Stop** (SIGTERM, SIGINT or ``POST /v1/daemon/stop``): running work finishes or is cancelled at
  ``[daemon] stop_timeout_s`` (``Supervisor.stop``), services stop in reverse order, alerts still
  undelivered stay in the database for the next start, then the venue and database close and the
  socket and pid file are removed. The process then exits without waiting for a worker thread still
  computing for cancelled work (a generation's search): nothing it computes can be stored any more.
- **Detached start** (``spawn``) re-runs ``mt daemon start --foreground`` in a new session with its
  output in the log folder, and waits until the socket answers.

``Daemon`` is the in-process engine (tests build one with a fake venue and clock); ``run_foreground``
is the process around it.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from mastertrade.errors import DaemonAlreadyRunning, MasterTradeError, OperationFailed, UserInputError
from mastertrade.locations import Locations, daemon_started, ensure_private_dir, locations, open_private
from mastertrade.pids import pid_file_holder, process_alive, read_pid

if TYPE_CHECKING:
    from mastertrade.config import Settings
    from mastertrade.engine.alerts.delivery import Notifier
    from mastertrade.engine.db_lock import DatabaseLock
    from mastertrade.engine.kernel.clock import Clock
    from mastertrade.engine.kernel.context import EngineContext, JobRegistry, Service
    from mastertrade.engine.market.venue import Venue

log = logging.getLogger(__name__)


# --- the pid file lock ---------------------------------------------------------------------------


class DaemonLock:
    """The pid file, locked for the life of the daemon."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock and write our pid; returns True when a stale pid file (an unclean stop) was
        found. Raises ``DaemonAlreadyRunning`` when a live daemon holds it."""
        ensure_private_dir(self.path.parent)
        for _ in range(50):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                pid = read_pid(self.path)
                if pid is None:
                    # Someone holds it without having written yet (a daemon starting, or a status
                    # check peeking): try again shortly.
                    time.sleep(0.02)
                    continue
                raise DaemonAlreadyRunning(f"the daemon is already running (pid {pid})") from None
            # The file may have been unlinked by a stopping daemon between our open and our lock.
            if not self.path.exists() or os.stat(self.path).st_ino != os.fstat(fd).st_ino:
                os.close(fd)
                continue
            stale = os.pread(fd, 64, 0).strip()
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            self._fd = fd
            return bool(stale)
        raise DaemonAlreadyRunning("the daemon is starting or stopping; try again in a moment")

    def release(self) -> None:
        """Remove the pid file (a clean stop) and let go of the lock."""
        if self._fd is None:
            return
        self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None


def running_pid(where: Locations | None = None) -> int | None:
    """The pid of the live daemon of this installation, or None (a stale pid file is no daemon)."""
    return pid_file_holder((where or locations()).pid_file)


def clean_stale_socket(where: Locations | None = None) -> bool:
    """Remove the socket a crashed daemon left (only when no daemon holds the lock). A stale pid file
    stays: the next daemon reads it to know that the previous run did not stop cleanly."""
    where = where or locations()
    if running_pid(where) is not None or not (where.socket_file.exists() or where.socket_file.is_symlink()):
        return False
    where.socket_file.unlink(missing_ok=True)
    return True


# --- the engine in-process -----------------------------------------------------------------------


class Daemon:
    """The engine: context, API servers and services under a supervisor.

    ``venue``, ``clock``, ``notifier``, ``services`` and ``jobs`` replace the configured ones (tests);
    ``market_clock`` is the market's time (by default the wall ``clock`` for a real exchange, a
    ``MarketTime`` the market feed moves for a simulated venue);
    by default the venue comes from ``open_venue``, the services from ``build_services`` and the jobs
    from ``build_jobs``. ``components`` are provided on the context before any service starts (the
    command line's ``LiveConsent`` when started with ``--live``).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        venue: Venue | None = None,
        clock: Clock | None = None,
        market_clock: Clock | None = None,
        notifier: Notifier | None = None,
        services: Callable[[EngineContext], Sequence[Service]] | None = None,
        jobs: Callable[[], JobRegistry] | None = None,
        components: Sequence[object] = (),
        recovered: bool = False,
        serve_api: bool = True,
    ) -> None:
        self.settings = settings
        self._venue = venue
        self._clock = clock
        self._market_clock = market_clock
        self._notifier = notifier
        self._services = services
        self._jobs = jobs
        self.components = list(components)
        self.recovered = recovered
        self.serve_api = serve_api
        self.ctx: EngineContext | None = None
        self._supervisor: object | None = None
        self._db_lock: DatabaseLock | None = None
        self._lock_task: asyncio.Task[None] | None = None

    async def start(self) -> EngineContext:
        from mastertrade.db.database import Database
        from mastertrade.engine.alerts.manager import AlertManager
        from mastertrade.engine.bus import EventBus
        from mastertrade.engine.events import ServiceStateChanged
        from mastertrade.engine.kernel.clock import MarketTime, SystemClock
        from mastertrade.engine.kernel.context import DaemonState, EngineContext
        from mastertrade.engine.market.store import CandleStore
        from mastertrade.engine.services import build_jobs, build_services
        from mastertrade.engine.services.supervisor import Supervisor

        settings = self.settings
        clock = self._clock or SystemClock()
        db = await Database.open(settings)
        from mastertrade.engine.db_lock import DatabaseLock

        lock = DatabaseLock(
            db,
            runtime=str(locations().socket_file),
            settings=settings.db_lock,
        )
        try:
            await lock.acquire()  # one trading daemon per database, whatever the runtime folder says
            from mastertrade.engine.execution.book_quotes import check_book_quotes

            await check_book_quotes(settings, db)  # before any service values a book
            venue = self._venue
            if venue is None:
                from mastertrade.engine.market.factory import open_venue

                venue = await open_venue(settings, db)
        except BaseException:
            await lock.release()
            await db.close()
            raise
        self._db_lock = lock
        if lock.unreleased and not self.recovered:
            log.warning(
                "the previous daemon on this database never released its lock: it did not stop cleanly"
            )
            self.recovered = True
        bus = EventBus(default_maxsize=settings.api.event_queue)
        ctx = EngineContext(
            settings=settings,
            db=db,
            bus=bus,
            candles=CandleStore(db),
            venue=venue,
            clock=clock,
            market_clock=self._market_clock or (MarketTime(clock) if venue.simulated else clock),
            state=DaemonState(started_at=clock.now(), recovered=self.recovered),
            jobs=(self._jobs or build_jobs)(),
            alerts=AlertManager(settings.alerts, db, bus, clock, notifier=self._notifier),
        )
        self.ctx = ctx
        if isinstance(ctx.market_clock, MarketTime):
            # Before any service reads it: a scheduler that began on the wall clock kept today's dates
            # until market time next moved, for good once a replay's stored bars had run out.
            from mastertrade.engine.market.resume import resume_market_time

            await resume_market_time(
                venue, settings.market.symbols, settings.market.timeframe, ctx.market_clock
            )
        for component in self.components:
            ctx.provide(component)
        services = [
            *(self.api_services(ctx) if self.serve_api else []),
            *(self._services or build_services)(ctx),
        ]
        supervisor = Supervisor(ctx, services)
        self._supervisor = supervisor
        supervisor.start()
        self._lock_task = asyncio.create_task(lock.hold(ctx.request_stop), name="database lock")
        bus.publish(ServiceStateChanged(service="daemon", state="started"))
        if self.recovered:
            log.warning("the previous daemon run ended without a clean stop")
            bus.publish(
                ServiceStateChanged(
                    service="daemon",
                    state="recovered",
                    error="The previous daemon run ended without a clean stop (crash, kill or power loss).",
                )
            )
        log.info(
            "daemon %s started: pid %d, venue %s (%s), mode %s",
            ctx.state.version,
            ctx.state.pid,
            venue.id,
            "simulated" if venue.simulated else "live market",
            settings.mode,
        )
        return ctx

    def api_services(self, ctx: EngineContext) -> list[Service]:
        from mastertrade.engine.api.app import create_app
        from mastertrade.engine.api.auth import ensure_token
        from mastertrade.engine.services.api_server import ApiServer, bind_tcp, bind_unix

        path = locations().socket_file
        services: list[Service] = [ApiServer("api", create_app(ctx), lambda: bind_unix(path), str(path))]
        port = ctx.settings.api.tcp_port
        if port is not None:
            app = create_app(ctx, token=ensure_token(ctx.settings))
            services.append(ApiServer("api-tcp", app, lambda: bind_tcp(port), f"127.0.0.1:{port}"))
        return services

    async def stop(self) -> None:
        """Stop everything (see the module docstring); safe to call once the engine started."""
        from mastertrade.engine.events import ServiceStateChanged
        from mastertrade.engine.services.supervisor import Supervisor

        ctx = self.ctx
        if ctx is None:
            return
        ctx.request_stop(ctx.stop_reason or "stop requested")
        log.info("stopping: %s", ctx.stop_reason)
        ctx.bus.publish(ServiceStateChanged(service="daemon", state="stopping", error=ctx.stop_reason))
        try:
            if isinstance(self._supervisor, Supervisor):
                await self._supervisor.stop()
        finally:
            await ctx.alerts.close()
            ctx.bus.close()
            try:
                await ctx.venue.close()
            except Exception:
                log.exception("closing the venue failed")
            if self._lock_task is not None:
                self._lock_task.cancel()
                await asyncio.gather(self._lock_task, return_exceptions=True)
                self._lock_task = None
            if self._db_lock is not None:
                await self._db_lock.release()
                self._db_lock = None
            await ctx.db.close()
            if self.serve_api:
                locations().socket_file.unlink(missing_ok=True)
            self.ctx = None
            log.info("daemon stopped")

    async def run(self) -> None:
        """Start, serve until asked to stop (signal, API), then stop. A signal during start-up (a start
        that gave up waiting: ``spawn``) cancels the start, which releases what it opened, and raises
        ``StartCancelled``: the process ends as a stopped daemon does, its pid file removed."""
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        received: list[str] = []
        started: list[EngineContext] = []

        def on_signal(name: str) -> None:
            if not started:
                if not received and task is not None:
                    task.cancel()
                received.append(name)
            elif started[0].stopping.is_set():
                log.info("%s received: already stopping", name)
            else:
                started[0].request_stop(f"{name} received")

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal, sig.name)
        try:
            try:
                ctx = await self.start()
            except asyncio.CancelledError:
                if received and task is not None:
                    task.uncancel()
                    raise StartCancelled(f"stopped during start-up: {received[0]} received") from None
                raise
            started.append(ctx)
            if received:  # as the start completed: its cancel is still to come
                ctx.request_stop(f"{received[0]} received")
            try:
                await ctx.stopping.wait()
            except asyncio.CancelledError:
                if not received or task is None:
                    raise
                task.uncancel()
            finally:
                await self.stop()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            # The run is over and the process is ending: a SIGTERM now (a start that gave up waiting as
            # this one failed by itself) must not end it before the pid file and locks are released.
            # SIGINT needs nothing: it raises KeyboardInterrupt, which runs the clean-up.
            signal.signal(signal.SIGTERM, signal.SIG_IGN)


# --- the process -----------------------------------------------------------------------------------


class StartCancelled(Exception):
    """A signal asked the daemon to stop before it had started: not a failure, a stop."""


def run_foreground(
    settings: Settings, *, log_to_stderr: bool = True, components: Sequence[object] = ()
) -> None:
    """Be the daemon in this process until it is stopped. Raises ``DaemonAlreadyRunning``."""
    from mastertrade.engine.services.logs import setup_logging

    where = locations()
    lock = DaemonLock(where.pid_file)
    stale = lock.acquire()
    abandoned: list[str] = []
    try:
        setup_logging(settings, where.log_file, stderr=log_to_stderr)
        daemon_started(where)  # where a session without this XDG_RUNTIME_DIR (cron) finds this daemon
        if stale:
            log.warning("found a stale pid file from a daemon that did not stop cleanly; replacing it")
        with asyncio.Runner() as runner:
            runner.get_loop().set_default_executor(_UnjoinedExecutor(thread_name_prefix="mt-worker"))
            try:
                runner.run(Daemon(settings, recovered=stale, components=components).run())
            except StartCancelled as exc:
                log.info("%s", exc)
        abandoned = _abandoned_threads()
        if abandoned:
            log.warning(
                "exiting without waiting for %d worker thread(s) still finishing cancelled work: %s",
                len(abandoned),
                ", ".join(abandoned),
            )
    except (KeyboardInterrupt, SystemExit):
        raise
    except MasterTradeError as exc:
        log.error("the daemon could not run: %s", exc)
        raise
    except Exception as exc:
        from mastertrade.db.trouble import database_trouble

        trouble = database_trouble(exc)
        if trouble is not None:  # the machine's state (locked, full, server down), not a bug
            log.error("the daemon could not run: the database cannot be used: %s", trouble)
            raise OperationFailed(
                f"the daemon could not run: the database cannot be used: {trouble} (see {where.log_file})"
            ) from None
        log.exception("the daemon failed")
        reason = str(exc).splitlines()[0] if str(exc) else ""
        raise OperationFailed(
            f"the daemon failed: {type(exc).__name__}: {reason} (see {where.log_file})"
        ) from None
    finally:
        lock.release()
        logging.shutdown()
    if abandoned:
        # The interpreter would join them at exit, holding `mt daemon stop` (and a restart) for as long as
        # a search takes to notice it was cancelled; what they compute can no longer be stored anywhere.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


class _UnjoinedExecutor(ThreadPoolExecutor):
    """The daemon loop's default executor (``asyncio.to_thread``): once the daemon has stopped, its
    threads are not waited for. A thread still running then works for a run the stop cancelled (a
    generation's search stops only at its next generation), and the database it would store to is
    closed; ``asyncio.run`` would wait for it up to five minutes, then the interpreter again."""

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=False, cancel_futures=True)


def _abandoned_threads(grace_s: float = 1.0) -> list[str]:
    """Threads still running ``grace_s`` after the daemon has stopped, besides this one (idle workers
    and the database driver's end within it)."""
    current = threading.current_thread()
    deadline = time.monotonic() + grace_s
    for thread in threading.enumerate():
        if thread is not current and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
    return [t.name for t in threading.enumerate() if t is not current and t.is_alive() and not t.daemon]


def spawn(settings: Settings, *, timeout_s: float | None = None, options: Sequence[str] = ()) -> int:
    """Start a detached daemon (``mt daemon start --foreground --detached`` plus ``options``, such as
    ``--live``) and wait until it answers on the socket; returns its pid. Raises
    ``DaemonAlreadyRunning`` when a daemon runs, or another start's daemon took the pid file first."""
    where = locations()
    pid = settled_pid(where)
    if pid is not None:
        raise DaemonAlreadyRunning(f"the daemon is already running (pid {pid})")
    clean_stale_socket(where)
    ensure_private_dir(where.log_dir)
    stderr_path = where.log_dir / "daemon.stderr"
    command = [sys.executable, "-m", "mastertrade", "daemon", "start", "--foreground", "--detached", *options]
    with open_private(stderr_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, "ab") as stderr:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
            close_fds=True,
        )
    started = datetime.now(UTC)
    deadline = time.monotonic() + (timeout_s or settings.daemon.start_timeout_s)
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            other = running_pid(where)
            if other is not None and other != process.pid:
                # Another start (cron's keep-alive, a second shell) won the race for the pid file.
                raise DaemonAlreadyRunning(f"the daemon is already running (pid {other})")
            _refused(code, where, stderr_path)
            raise OperationFailed(
                f"the daemon exited during start-up (exit code {code}): {_last_error(where, stderr_path)}"
            )
        if _answers(where.socket_file):
            return process.pid
        time.sleep(0.05)
    if _answers(where.socket_file):
        return process.pid
    code = process.poll()
    if code is not None:  # it gave up by itself as this start did: its own reason, as above
        _refused(code, where, stderr_path)
        raise OperationFailed(
            f"the daemon exited during start-up (exit code {code}): {_last_error(where, stderr_path)}"
        )
    warning = _newest_warning(where, started)
    # Exit 1 must mean that no daemon of this start runs: left alone it would go on retrying and end (or
    # answer) later by itself, and a keep-alive or unit starting again at once would meet it.
    how = _stop_started(process, settings.daemon.stop_timeout_s + 10)
    raise OperationFailed(
        f"the daemon (pid {process.pid}) did not answer on {where.socket_file} within "
        f"{timeout_s or settings.daemon.start_timeout_s:g} s"
        + (f" (its newest warning: {warning})" if warning else "")
        + f"; {how} (raise [daemon] start_timeout_s to give it longer); see `mt daemon logs`"
    )


def _stop_started(process: subprocess.Popen[bytes], timeout_s: float) -> str:
    """Stop a daemon this command started that has not answered: SIGTERM (it cancels its start-up and
    removes its pid file), SIGKILL when it has not ended within ``timeout_s``. Says what was done."""
    try:
        process.terminate()
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return f"killed it, as it did not stop within {timeout_s:g} s"
    return "stopped it"


def settled_pid(where: Locations | None = None, *, timeout_s: float = 60.0) -> int | None:
    """``running_pid``, except that a daemon on its way out (its ``/v1/health`` says it is stopping) is
    waited for, and None returned once it has gone: a command that starts a daemon or attaches to one
    never attaches to one that is about to vanish (``mt demo`` right after quitting the last one)."""
    where = where or locations()
    pid = running_pid(where)
    if pid is None or _healthy(where.socket_file) is not False:
        return pid
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if running_pid(where) is None:
            return None
        time.sleep(0.05)
    raise OperationFailed(
        f"the daemon (pid {pid}) is stopping and has not finished within {timeout_s:g} s; "
        "see `mt daemon logs`"
    )


def _healthy(socket_file: Path) -> bool | None:
    """The daemon's ``GET /v1/health`` verdict: False once it is stopping, None when nothing answers."""
    import json
    import socket

    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            sock.connect(str(socket_file))
            sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: mt\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
    except OSError:
        return None
    head, _, body = answer.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        return None
    try:
        return bool(json.loads(body)["ok"])
    except (ValueError, KeyError, TypeError):
        return None


def _answers(socket_file: Path) -> bool:
    import socket

    if not socket_file.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(str(socket_file))
            sock.sendall(b"GET /v1/status HTTP/1.1\r\nHost: mt\r\nConnection: close\r\n\r\n")
            return sock.recv(16).startswith(b"HTTP/1.1 200")
        except OSError:
            return False


def _newest_warning(where: Locations, since: datetime) -> str | None:
    """The newest warning or error the daemon logged since ``since`` (this start's, not an earlier
    run's): why a daemon that runs has not answered yet, such as an exchange it keeps retrying."""
    from mastertrade.engine.services.logs import parse_log_lines

    try:
        lines = where.log_file.read_text(encoding="utf-8", errors="replace").splitlines()[-200:]
    except OSError:
        return None
    # the log's times are ISO-8601 UTC, so their text order is their time order
    floor = since.strftime("%Y-%m-%dT%H:%M:%S")
    records = [
        record
        for record in parse_log_lines(lines)
        if record["level"] in ("WARNING", "ERROR", "CRITICAL") and record["time"] >= floor
    ]
    return records[-1]["message"].splitlines()[0] if records else None


def _refused(code: int, where: Locations, stderr_path: Path) -> None:
    """A daemon that exited 2 refused its input (a relative SQLite path, a port out of range, found once it
    opened the database): the same line and exit status as ``--foreground`` gives (a unit's
    RestartPreventExitStatus=2, a script's test for bad input), not a failure's exit 1."""
    if code == 2:
        raise UserInputError(_last_error(where, stderr_path))


def _last_error(where: Locations, stderr_path: Path) -> str:
    """The most telling line the failed start left: the last error in the log or on stderr."""
    from mastertrade.engine.services.logs import parse_log_lines

    lines: list[str] = []
    for path in (stderr_path, where.log_file):
        try:
            lines += path.read_text(encoding="utf-8", errors="replace").splitlines()[-200:]
        except OSError:
            continue
    errors = [line for line in lines if line.startswith("mt: error:")]
    if errors:
        return errors[-1].removeprefix("mt: error:").strip()
    records = [record for record in parse_log_lines(lines) if record["level"] in ("ERROR", "CRITICAL")]
    if records:
        return records[-1]["message"].splitlines()[-1]
    return f"see {where.log_file}"


def stop(*, timeout_s: float) -> int | None:
    """SIGTERM the daemon and wait until it is gone; returns its pid, or None if none ran."""
    where = locations()
    pid = running_pid(where)
    if pid is None:
        clean_stale_socket(where)
        return None
    if pid <= 0:
        raise OperationFailed(f"a daemon holds {where.pid_file} but its pid is unreadable; stop it by hand")
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if running_pid(where) is None and not process_alive(pid):
            return pid
        time.sleep(0.05)
    raise OperationFailed(
        f"the daemon (pid {pid}) did not stop within {timeout_s:g} s; it may still be finishing work "
        f"(see `mt daemon logs`); `kill -9 {pid}` ends it at once (nothing stored is lost)"
    )
