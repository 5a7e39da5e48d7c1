"""A daemon on its way out is waited for, never attached to: ``settled_pid`` (used by ``mt daemon start``
and ``mt demo``) waits while the daemon's ``/v1/health`` says it is stopping and returns None once its
pid-file lock is gone; a healthy daemon is returned at once.

The "daemon" here is the test itself: it holds the pid file's lock (as a running daemon does) and answers
``/v1/health`` on the socket from a thread."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mastertrade.engine.daemon import settled_pid
from mastertrade.errors import OperationFailed
from mastertrade.locations import Locations, locations


class FakeDaemon:
    def __init__(self, where: Locations, ok: bool) -> None:
        where.pid_file.parent.mkdir(parents=True, exist_ok=True)
        where.socket_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_fd = os.open(where.pid_file, os.O_RDWR | os.O_CREAT, 0o600)
        os.write(self.pid_fd, b"4242\n")
        fcntl.flock(self.pid_fd, fcntl.LOCK_EX)
        body = json.dumps({"ok": ok, "pid": 4242}).encode()
        self.answer = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(where.socket_file))
        self.server.listen()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                connection.recv(4096)
                connection.sendall(self.answer)

    def exit_after(self, seconds: float) -> None:
        def leave() -> None:
            time.sleep(seconds)
            self.exit()

        threading.Thread(target=leave, daemon=True).start()

    def exit(self) -> None:
        if self.pid_fd >= 0:
            fcntl.flock(self.pid_fd, fcntl.LOCK_UN)
            os.close(self.pid_fd)
            self.pid_fd = -1
        self.server.close()


@pytest.fixture
def where(mt_home: Path) -> Iterator[Locations]:
    yield locations()


def test_a_healthy_daemon_is_returned_at_once(where: Locations) -> None:
    daemon = FakeDaemon(where, ok=True)
    try:
        assert settled_pid(where, timeout_s=5.0) == 4242
    finally:
        daemon.exit()


def test_a_stopping_daemon_is_waited_for_until_it_has_gone(where: Locations) -> None:
    daemon = FakeDaemon(where, ok=False)
    daemon.exit_after(0.3)
    started = time.monotonic()
    assert settled_pid(where, timeout_s=10.0) is None
    assert time.monotonic() - started >= 0.25


def test_a_daemon_that_never_finishes_stopping_is_reported(where: Locations) -> None:
    daemon = FakeDaemon(where, ok=False)
    try:
        with pytest.raises(OperationFailed, match="is stopping and has not finished within 0.2 s"):
            settled_pid(where, timeout_s=0.2)
    finally:
        daemon.exit()


def test_no_daemon_is_none(where: Locations) -> None:
    assert settled_pid(where, timeout_s=0.2) is None
