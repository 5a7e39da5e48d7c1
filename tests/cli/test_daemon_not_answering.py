"""A daemon that runs (it holds its pid file) but does not answer on its socket yet (starting: a live
venue's markets still loading) is not "not running": ``mt daemon status`` said "the daemon runs (pid N)
but does not answer on SOCKET: the daemon is not running: start it with `mt daemon start`", and every
command that asks the daemon told the trader to start a daemon that was already there."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mastertrade.locations import locations
from tests.conftest import MT


@pytest.fixture
def silent_daemon(mt_home: Path) -> Iterator[int]:
    """A live process (this one) holding the pid file, and nothing on the socket."""
    where = locations()
    where.pid_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(where.pid_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield os.getpid()
    finally:
        os.close(fd)


def test_daemon_status_of_a_silent_daemon_does_not_say_it_is_not_running(mt: MT, silent_daemon: int) -> None:
    result = mt("daemon", "status")
    assert result.exit_code == 4, result.output
    assert f"pid {silent_daemon}" in result.output
    assert "not running" not in result.output and "mt daemon start" not in result.output
    assert "mt daemon logs" in result.output


def test_a_command_asking_a_silent_daemon_names_it_instead_of_asking_to_start_one(
    mt: MT, silent_daemon: int
) -> None:
    result = mt("positions")
    assert result.exit_code == 1, result.output
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert message.startswith("mt: error: ") and f"pid {silent_daemon}" in message
    assert str(locations().socket_file) in message and "mt daemon logs" in message
    assert "not running" not in message and "mt daemon start" not in message


def test_with_no_daemon_the_message_is_unchanged(mt: MT) -> None:
    result = mt("positions")
    assert result.exit_code == 1
    assert "the daemon is not running: start it with `mt daemon start`" in result.stderr
