"""``mt daemon start|stop|status|restart|run|logs``: run and watch the engine daemon (``run``: in
:mod:`.daemon_jobs`).

``with_client(fn)`` is how any command talks to the daemon: ``with_client(lambda c: c.status())``
runs the coroutine with a connected ``DaemonClient`` and turns "nothing on the socket" into the
one-line ``DaemonNotRunning`` error (exit 1), which says so when a daemon holds the pid file but does not
answer yet (starting, or stuck) instead of asking for a start.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

import typer

from mastertrade.cli.daemon_jobs import run_job
from mastertrade.cli.output import JsonOption, info, print_json, print_table

if TYPE_CHECKING:
    from mastertrade.client import DaemonClient
    from mastertrade.config import Settings

app = typer.Typer(help="Start, stop and watch the engine daemon.", no_args_is_help=True)

# `mt daemon status` exit codes, the LSB init-script ones `systemctl status` uses, so a script can ask
# "is it up?" without parsing output: running, not running, running but not answering.
STATUS_RUNNING, STATUS_NOT_RUNNING, STATUS_UNKNOWN = 0, 3, 4


def with_client[T](fn: Callable[[DaemonClient], Awaitable[T]], *, timeout_s: float = 10.0) -> T:
    """Run ``fn(client)`` against the daemon of this installation.

    Nothing on the socket while a daemon holds the pid file (starting, or stuck) is said as such, not as
    "not running": that would send the trader to start a daemon that is already there."""
    from mastertrade.cli.runtime import run
    from mastertrade.client import DaemonClient
    from mastertrade.errors import DaemonNotRunning

    async def main() -> T:
        async with DaemonClient(timeout=timeout_s) as client:
            return await fn(client)

    try:
        return run(main)
    except DaemonNotRunning:
        silent = silent_daemon()
        if silent is None:
            raise
        raise DaemonNotRunning(silent) from None


def silent_daemon() -> str | None:
    """What to say when a daemon holds this installation's pid file but nothing answers on its socket,
    or None when no daemon holds it."""
    from mastertrade.locations import locations
    from mastertrade.pids import pid_file_holder

    where = locations()
    pid = pid_file_holder(where.pid_file)
    if pid is None:
        return None
    who = f"pid {pid}" if pid > 0 else "its pid not written yet"
    return (
        f"the daemon runs ({who}) but does not answer on {where.socket_file}: it is still starting, or"
        " stuck; see `mt daemon logs`"
    )


def duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


@app.command("start")
def start(
    foreground: Annotated[
        bool, typer.Option("--foreground", help="Stay attached (systemd, containers); log to stderr too.")
    ] = False,
    live: Annotated[
        bool, typer.Option("--live", help='Trade live (the config must also say mode = "live").')
    ] = False,
    detached: Annotated[bool, typer.Option("--detached", hidden=True)] = False,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Start the daemon in the background (or in the foreground with --foreground).

    When the daemon already runs it says so (pid, socket) and exits 0, as an init script's "start".
    """
    from mastertrade.cli.runtime import settings
    from mastertrade.engine import daemon
    from mastertrade.engine.alerts.targets import check_targets
    from mastertrade.errors import DaemonAlreadyRunning
    from mastertrade.locations import locations

    config = settings()
    components = _live_consent(config, live) if live or config.mode == "live" else []
    if not detached:  # the detached daemon's parent, this command, has checked them
        check_targets(config.alerts.urls)
        _check_collector_names(config)
    if foreground or detached:
        daemon.run_foreground(config, log_to_stderr=not detached, components=components)
        return
    where = locations()
    running = daemon.settled_pid(where)
    if running is not None:
        _already_running(running, live=live, json_out=json_out)
        return
    busy = _busy_port(config.api.tcp_port)
    try:
        pid = daemon.spawn(config, options=["--live"] if live else [])
    except DaemonAlreadyRunning:
        running = daemon.running_pid(where)  # another start won the race: that daemon is the one
        if running is None:
            raise
        _already_running(running, live=live, json_out=json_out)
        return
    result = {
        "running": True,
        "already_running": False,
        "pid": pid,
        "socket": str(where.socket_file),
        "log_file": str(where.log_file),
    }
    if busy:
        result["warning"] = busy
        info(f"mt: warning: {busy}", style="yellow")
    if json_out:
        print_json(result)
        return
    info(f"daemon started (pid {pid}), listening on {where.socket_file}; logs: `mt daemon logs`")


def _already_running(pid: int, *, live: bool, json_out: bool) -> None:
    """What ``mt daemon start`` says, and how it exits, when the daemon already runs: success, as an
    LSB init script's "start" of a running service (systemd and cron wrappers rely on it), with one line
    naming it. A start that asked for ``--live`` is refused (exit 1) when the running daemon does not
    trade live: what it was asked for is not what runs."""
    from mastertrade.errors import DaemonAlreadyRunning, MasterTradeError
    from mastertrade.locations import locations

    where = locations()
    shown = str(pid) if pid > 0 else "not yet written"
    mode: str | None = None
    try:
        mode = with_client(lambda client: client.status(), timeout_s=5.0).mode
    except MasterTradeError:
        pass  # starting, or not answering: `mt daemon status` says which
    if live and mode is not None and mode != "live":
        raise DaemonAlreadyRunning(
            f"the daemon is already running (pid {shown}) in {mode or 'an unknown'} mode, not live: "
            "`mt daemon restart --live` restarts it trading live"
        )
    result = {
        "running": True,
        "already_running": True,
        "pid": pid if pid > 0 else None,
        "socket": str(where.socket_file),
        "log_file": str(where.log_file),
        "mode": mode,
    }
    if json_out:
        print_json(result)
        return
    answering = "" if mode is not None else " (not answering yet: see `mt daemon status`)"
    info(f"the daemon is already running (pid {shown}), listening on {where.socket_file}{answering}")


@app.command("stop")
def stop(
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", min=0, help="Seconds to wait (default: stop_timeout_s + 10)."),
    ] = None,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Stop the daemon gracefully (SIGTERM) and wait until it is gone."""
    from mastertrade.engine import daemon

    pid = daemon.stop(timeout_s=timeout if timeout is not None else _stop_wait())
    if json_out:
        print_json({"stopped": pid is not None, "pid": pid})
        return
    info(f"daemon stopped (pid {pid})" if pid is not None else "the daemon is not running")


def _stop_wait() -> float:
    """Seconds ``mt daemon stop`` waits: the configured stop deadline and ten. A config that no longer loads
    (edited while the daemon runs) must not keep the daemon from being stopped: the default deadline is
    used then, and the error is shown as a warning."""
    from mastertrade.cli.runtime import settings
    from mastertrade.config import DaemonSettings
    from mastertrade.errors import ConfigError

    try:
        return settings().daemon.stop_timeout_s + 10
    except ConfigError as exc:
        wait = DaemonSettings().stop_timeout_s + 10
        info(f"mt: warning: {exc}; stopping the daemon anyway (waiting up to {wait:g} s)", style="yellow")
        return wait


def _busy_port(port: int | None) -> str | None:
    """Why ``[api] tcp_port`` cannot be served right now (another program holds it), or None. The daemon
    still starts: its Unix socket serves the CLI and the dashboard, and it retries the port."""
    if port is None:
        return None
    from mastertrade.engine.services.api_server import bind_tcp

    try:
        bind_tcp(port).close()
    except OSError as exc:
        return (
            f"[api] tcp_port {port} cannot be opened ({exc.strerror or exc}): the daemon serves its Unix"
            " socket and retries the port; free it or choose another"
        )
    return None


def _live_consent(config: Settings, live: bool) -> list[object]:
    """Both live switches, and a market feed that can trade live, checked before anything starts
    (exit 2 naming the missing switch or the venue), so a live start never reports success and idles:
    ``mode = "live"`` without ``--live`` is refused as ``--live`` without it is."""
    from mastertrade.engine.execution.broker import require_live
    from mastertrade.errors import UserInputError

    consent = require_live(config.mode, live)
    if config.market.venue != "ccxt":
        raise UserInputError(
            f"cannot trade live on the {config.market.venue!r} venue ([market] venue = "
            f'"{config.market.venue}"): live trading needs the exchange\'s own prices, '
            'set [market] venue = "ccxt" (MT_MARKET__VENUE=ccxt)'
        )
    # Named one by one: a trader who set the key and forgot the secret is not sent to set the key. An
    # empty one (`MT_EXCHANGE__SECRET=` in a unit file) is missing too: the exchange would refuse it later.
    missing = [
        (what, variable)
        for what, variable, value in (
            ("key", "MT_EXCHANGE__API_KEY", config.exchange.api_key),
            ("secret", "MT_EXCHANGE__SECRET", config.exchange.secret),
        )
        if value is None or not value.get_secret_value().strip()
    ]
    if missing:
        what = " and ".join(name for name, _ in missing)
        where = " and ".join(variable for _, variable in missing)
        them = "them" if len(missing) > 1 else "it"
        raise UserInputError(
            f"cannot trade live on {config.exchange.id} without its API {what}: set {where} (or put {them}"
            " in the 0600 secrets.toml)"
        )
    return [consent]


def _check_collector_names(config: Settings) -> None:
    """A collector name in ``[collectors]`` that no source has (``disabled = ["redit"]``) is refused
    before the daemon starts, once the plugins' names are known; a warning when a plugin failed to load."""
    from mastertrade.engine.collectors.check import check_collector_names

    warning = check_collector_names(config.collectors)
    if warning:
        info(f"mt: warning: {warning}", style="yellow")


@app.command("restart")
def restart(
    live: Annotated[
        bool, typer.Option("--live", help='Trade live (the config must also say mode = "live").')
    ] = False,
    json_out: Annotated[bool, JsonOption] = False,
) -> None:
    """Stop the daemon if it runs, then start it in the background."""
    from mastertrade.cli.runtime import settings
    from mastertrade.engine import daemon
    from mastertrade.engine.alerts.targets import check_targets

    config = settings()
    if live or config.mode == "live":
        _live_consent(config, live)
    check_targets(config.alerts.urls)  # before the running daemon is stopped
    _check_collector_names(config)
    old = daemon.stop(timeout_s=config.daemon.stop_timeout_s + 10)
    busy = _busy_port(config.api.tcp_port)  # once the old daemon let it go
    if busy:
        info(f"mt: warning: {busy}", style="yellow")
    pid = daemon.spawn(config, options=["--live"] if live else [])
    if json_out:
        print_json({"running": True, "pid": pid, "previous_pid": old})
        return
    info(f"daemon restarted (pid {pid})" if old is not None else f"daemon started (pid {pid})")


@app.command("status")
def status(json_out: Annotated[bool, JsonOption] = False) -> None:
    """Whether the daemon runs, with its pid, socket, uptime and services.

    Exit status as `systemctl status` (LSB): 0 when it runs and answers, 3 when it is not running,
    4 when it runs but does not answer on its socket; --json prints the same document in every case.
    """
    from mastertrade.engine.daemon import running_pid
    from mastertrade.errors import DaemonNotRunning, MasterTradeError
    from mastertrade.locations import locations

    where = locations()
    pid = running_pid(where)
    result: dict[str, Any] = {
        "running": pid is not None,
        "pid": pid,
        "socket": str(where.socket_file),
        "pid_file": str(where.pid_file),
        "log_file": str(where.log_file),
    }
    report = None
    silent = None
    if pid is not None:
        try:
            report = with_client(lambda client: client.status(), timeout_s=5.0)
        except DaemonNotRunning as exc:
            silent = result["problem"] = str(exc)
        except MasterTradeError as exc:
            result["problem"] = str(exc)
    else:
        result["stale_files"] = [str(path) for path in (where.pid_file, where.socket_file) if path.exists()]
    if report is not None:
        result.update(
            version=report.version,
            uptime_s=report.uptime_s,
            venue=report.venue.id,
            simulated=report.venue.simulated,
            mode=report.mode,
            services={service.name: service.state for service in report.services},
        )
    code = STATUS_RUNNING if report is not None else STATUS_NOT_RUNNING if pid is None else STATUS_UNKNOWN
    if json_out:
        print_json(result)
        raise typer.Exit(code)
    if pid is None:
        stale = " (stale files from a crash are cleaned at the next start)" if result["stale_files"] else ""
        info(f"the daemon is not running{stale}; start it with `mt daemon start`")
        raise typer.Exit(code)
    if report is None:
        problem = result.get("problem")
        info(silent or f"the daemon runs (pid {pid}) but does not answer on {where.socket_file}: {problem}")
        raise typer.Exit(code)
    simulated = " (simulated)" if report.venue.simulated else ""
    info(
        f"running: pid {pid}, up {duration(report.uptime_s)}, venue {report.venue.id}{simulated}, "
        f"mode {report.mode}, version {report.version}"
    )
    print_table(
        ["service", "state", "restarts", "last error"],
        [(s.name, s.state, s.restarts, s.last_error or "") for s in report.services],
        right=["restarts"],
    )


app.command("run")(run_job)


@app.command("logs")
def logs(
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines as they come.")
    ] = False,
    lines: Annotated[int, typer.Option("--lines", "-n", min=0, help="How many recent records to show.")] = 50,
    json_out: Annotated[
        bool, typer.Option("--json", help="Records as JSON: one array, or one object per line with -f.")
    ] = False,
) -> None:
    """Show the daemon's log (the newest records), optionally following it."""
    from mastertrade.engine.services.logs import parse_log_lines
    from mastertrade.locations import locations

    path = locations().log_file
    try:
        handle: BinaryIO | None = open(path, "rb")  # noqa: SIM115 - followed below, closed there
    except FileNotFoundError:
        handle = None
    # the records shown and the follow read one file: a rotation in between skips nothing
    text = handle.read().decode("utf-8", errors="replace") if handle is not None else ""
    records = _with_rotated(path, list(parse_log_lines(text.splitlines())), lines)[-lines:] if lines else []
    if not follow and handle is not None:
        handle.close()
    if json_out and not follow:
        print_json(records)
        return
    for record in records:
        _print_record(record, json_out)
    if handle is None:
        info(f"no daemon log yet ({path})" + ("; waiting for it" if follow else ""))
    if not follow:
        return
    try:
        _follow(path, handle, json_out)
    except KeyboardInterrupt:
        return


def _with_rotated(path: Path, records: list[dict[str, str]], wanted: int) -> list[dict[str, str]]:
    """``records`` (the current log's) preceded by the rotated logs' (``daemon.log.1``, ``.2`` ...) until
    there are ``wanted`` of them: right after a rotation the current file holds only a record or two."""
    from mastertrade.engine.services.logs import parse_log_lines

    number = 1
    while len(records) < wanted:
        try:
            text = path.with_name(f"{path.name}.{number}").read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            break
        records = [*parse_log_lines(text.splitlines()), *records]
        number += 1
    return records


def _print_record(record: dict[str, str], as_json: bool) -> None:
    import json

    if as_json:
        sys.stdout.write(json.dumps(record) + "\n")
    else:
        prefix = " ".join(
            part for part in (record["time"], record["level"], record["logger"] + ":") if part != ":"
        )
        sys.stdout.write(f"{prefix} {record['message']}\n" if prefix else f"{record['message']}\n")
    sys.stdout.flush()


def _follow(path: Path, handle: BinaryIO | None, as_json: bool) -> None:
    """Print records appended to ``path`` (open as ``handle``, read up to its position; None when there
    was no log yet), across rotations, until interrupted.

    The file is kept open: once another file stands at ``path`` (the rotating handler renamed this one
    to ``daemon.log.1``), what was appended to the open one since the last read is printed before the
    new one is read from its top, so the records written just before a rotation are not skipped."""
    from mastertrade.engine.services.logs import LINE, parse_log_lines

    partial = ""
    held: dict[str, str] | None = None  # the newest record: a traceback may still follow it
    try:
        while True:
            if handle is None:
                try:
                    handle = open(path, "rb")  # noqa: SIM115 - kept open across polls, closed below
                except FileNotFoundError:
                    time.sleep(0.2)
                    continue
            chunk = handle.read()
            if not chunk:
                opened = os.fstat(handle.fileno())
                if opened.st_size < handle.tell():
                    handle.seek(0)  # truncated in place: read it from its top
                    continue
                if _replaced(path, opened.st_ino):
                    chunk = handle.read()  # appended between the last read and the rotation
                    if not chunk:
                        handle.close()
                        handle = None
                        continue
            if not chunk:
                if held is not None:
                    _print_record(held, as_json)
                    held = None
                time.sleep(0.2)
                continue
            complete, _, partial = (partial + chunk.decode("utf-8", errors="replace")).rpartition("\n")
            for line in complete.split("\n") if complete else []:
                if held is not None and not LINE.match(line):
                    held["message"] += "\n" + line
                    continue
                if held is not None:
                    _print_record(held, as_json)
                held = next(parse_log_lines([line]), None)
    finally:
        if handle is not None:
            handle.close()


def _replaced(path: Path, inode: int) -> bool:
    """Whether ``path`` now names another file than the open one (rotated), or none (being rotated)."""
    try:
        return path.stat().st_ino != inode
    except FileNotFoundError:
        return True
