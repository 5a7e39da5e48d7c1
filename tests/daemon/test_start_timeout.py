"""A start that times out says why the daemon is not answering yet. A live daemon loads the exchange's
markets before it answers on its socket, retrying while the exchange cannot be reached; with the default
retries that outlasts `[daemon] start_timeout_s`, and `mt daemon start --live` said only "did not answer
... within 30 s; see `mt daemon logs`" while the log said what was wrong. It now quotes the newest warning
the daemon logged during this start.

Starts a real daemon against a closed port on 127.0.0.1, so it shares the daemon-process xdist group."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mastertrade.locations import locations

pytestmark = pytest.mark.xdist_group("daemon-process")

MT = str(Path(sys.executable).with_name("mt"))


def test_a_start_that_times_out_quotes_the_daemons_newest_warning(mt_home: Path) -> None:
    where = locations()
    where.log_dir.mkdir(parents=True, exist_ok=True)
    # a warning of an earlier run must not be taken for this one's
    where.log_file.write_text(
        "2020-01-01T00:00:00.000Z WARNING old.run: something long ago\n", encoding="utf-8"
    )
    env = {
        **os.environ,
        "MT_HOME": str(mt_home),
        "MT_MODE": "live",
        "MT_MARKET__VENUE": "ccxt",
        "MT_MARKET__SYMBOLS": '["BTC/USDT"]',
        "MT_EXCHANGE__API_KEY": "key",
        "MT_EXCHANGE__SECRET": "secret",
        "MT_EXCHANGE__API_URL": "http://127.0.0.1:9/api",  # nothing listens: every request is refused
        "MT_EXCHANGE__BACKOFF_S": "20",  # the daemon keeps retrying past the start's timeout
        "MT_EXCHANGE__BACKOFF_MAX_S": "20",
        "MT_DAEMON__START_TIMEOUT_S": "10",
        "MT_DAEMON__STOP_TIMEOUT_S": "5",
        "MT_COLLECTORS__ENABLED": "false",
    }
    try:
        result = subprocess.run(
            [MT, "daemon", "start", "--live"], env=env, capture_output=True, text=True, timeout=90
        )
    finally:
        subprocess.run([MT, "daemon", "stop"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert message.startswith("mt: error: the daemon (pid ") and "did not answer on" in message
    assert "load_markets" in message and "retry 1 of 5" in message, message
    assert "something long ago" not in message
    assert "mt daemon logs" in message


def test_a_start_that_times_out_stops_the_daemon_it_started_and_says_so(mt_home: Path) -> None:
    """What the start says and what runs agree: exit 1 means no daemon of this start runs (a cron
    keep-alive or a systemd unit that starts again at once never meets it), and the daemon stopped
    cleanly (its pid file gone, so the next start does not report a crash)."""
    import re

    from mastertrade.pids import process_alive

    where = locations()
    env = {
        **os.environ,
        "MT_HOME": str(mt_home),
        "MT_MODE": "live",
        "MT_MARKET__VENUE": "ccxt",
        "MT_MARKET__SYMBOLS": '["BTC/USDT"]',
        "MT_EXCHANGE__API_KEY": "key",
        "MT_EXCHANGE__SECRET": "secret",
        "MT_EXCHANGE__API_URL": "http://127.0.0.1:9/api",  # nothing listens: every request is refused
        "MT_EXCHANGE__BACKOFF_S": "20",  # the daemon would keep retrying long after the start gave up
        "MT_EXCHANGE__BACKOFF_MAX_S": "20",
        "MT_DAEMON__START_TIMEOUT_S": "5",
        "MT_DAEMON__STOP_TIMEOUT_S": "5",
        "MT_COLLECTORS__ENABLED": "false",
    }
    try:
        result = subprocess.run(
            [MT, "daemon", "start", "--live"], env=env, capture_output=True, text=True, timeout=90
        )
        pid_match = re.search(r"\(pid (\d+)\)", result.stderr)
        alive = pid_match is not None and process_alive(int(pid_match.group(1)))
        pid_file_left = where.pid_file.exists()
    finally:
        subprocess.run([MT, "daemon", "stop"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert pid_match is not None, message
    assert "within 5 s" in message and "stopped it" in message, message
    assert "start_timeout_s" in message, message
    assert not alive, "the daemon the start gave up on still runs"
    assert not pid_file_left, "the daemon was killed, not stopped: its pid file stayed"
    log_text = where.log_file.read_text(encoding="utf-8")
    assert "stopped during start-up: SIGTERM received" in log_text, log_text[-2000:]
