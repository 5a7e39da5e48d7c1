"""Whether a process still runs: the one check the daemon's pid file and its database lock share; whether
it is still the process that was recorded (a generation run's owner: a pid is reused once its process
ends); and who holds a pid file, the one check the daemon's start and status and the schema upgrade share."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (an exited daemon whose parent is gone may
    linger as one until init reaps it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True  # no /proc (macOS): kill(0) is all we know


def process_started(pid: int) -> str | None:
    """When process ``pid`` started, as a token no later process given the same pid has: the kernel's
    boot id and the start in clock ticks since that boot (``/proc``). None when it cannot be read (no such
    process, or no ``/proc``: macOS)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            started = handle.read().rpartition(")")[2].split()[19]
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
            boot = handle.read().strip()
    except (OSError, IndexError):
        return None
    return f"{boot}/{started}"


def same_process(pid: int, started: str | None) -> bool:
    """Whether the process recorded as ``pid`` started at ``started`` (``process_started``'s token) still
    runs. Without a token to compare (none recorded, or none readable now), a live ``pid`` counts as it:
    a process that may be the one recorded is never declared gone."""
    if not process_alive(pid):
        return False
    if started is None:
        return True
    now = process_started(pid)
    return now is None or now == started


def read_pid(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def pid_file_holder(path: Path) -> int | None:
    """The pid written in ``path`` while a live process holds the file's ``flock`` (-1 when it holds it
    but has not written its pid yet), or None when nobody does (no file, or a stale one a crash left).
    Every daemon version holds its pid file so for its whole life."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            return read_pid(path) or -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
