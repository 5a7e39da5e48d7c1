"""Who runs a generation run, and whether that process still does.

Every ``generation_runs`` row names the process that started it (``mt generate``, ``mt optimize
--evolve`` or the daemon's nightly job): its pid, its host and when it started (``process_started``: a
pid is reused once its process ends, the start is not). A row still "running" whose owner on this host
has ended was cut short (kill -9, a crash, a power loss) and is marked "interrupted" by the store. A run
of another host cannot be looked at from here, and a row stored before owners were recorded names none:
both are left "running", since either may still be going on.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from mastertrade.pids import process_started, same_process


@dataclass(frozen=True)
class RunOwner:
    pid: int
    host: str
    started: str | None

    @classmethod
    def current(cls) -> RunOwner:
        """This process."""
        pid = os.getpid()
        return cls(pid, socket.gethostname(), process_started(pid))

    @property
    def here(self) -> bool:
        """Whether it runs (or ran) on this host, where its process can be looked at."""
        return self.host == socket.gethostname()

    def gone(self) -> bool:
        """Whether the owner has certainly ended: on this host and no longer running (or its pid now
        another process's). Never true of a live owner, nor of one on another host."""
        return self.here and not same_process(self.pid, self.started)
