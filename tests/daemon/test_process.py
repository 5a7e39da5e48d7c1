"""The daemon as a real process: `mt daemon start` detaches and answers on its socket, a second start
says it already runs (exit 0), `stop` ends it cleanly, `kill -9` loses no stored candle and the next
start cleans up after it, `--foreground` stops on SIGTERM/SIGINT, and a start-up failure is reported
with its reason.

These start real daemons (a few seconds each), so they share one xdist group."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mastertrade.engine.daemon import process_alive
from mastertrade.locations import locations

pytestmark = pytest.mark.xdist_group("daemon-process")

MT = str(Path(sys.executable).with_name("mt"))


@pytest.fixture
def env(mt_home: Path) -> dict[str, str]:
    """A fast, offline, quiet daemon: the simulated market at 1 h bar per 0.2 s, no collectors."""
    values = dict(os.environ)
    values.update(
        MT_HOME=str(mt_home),
        MT_MARKET__VENUE="sim",
        MT_MARKET__SYMBOLS='["BTC/USDT", "ETH/USDT"]',
        MT_MARKET__SPEED="18000",
        MT_MARKET__TICKS_PER_BAR="4",
        MT_COLLECTORS__ENABLED="false",
        MT_DAEMON__STOP_TIMEOUT_S="5",
    )
    return values


def mt(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MT, *args], env=env, capture_output=True, text=True, timeout=timeout)


def mt_json(env: dict[str, str], *args: str) -> Any:
    result = mt(env, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def stored(mt_home: Path) -> set[tuple[str, int, float]]:
    """Every stored candle as (symbol, ts, close), read straight from the SQLite file."""
    path = mt_home / "data" / "mastertrade.db"
    if not path.exists():
        return set()
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT s.symbol, c.ts, c.close FROM candles c JOIN series s ON s.id = c.series_id"
        )
        return {(symbol, int(ts), float(close)) for symbol, ts, close in rows}


def wait_until(condition: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"condition not met within {timeout} s")


def alive(pid: int) -> bool:
    return process_alive(pid)


def test_start_status_second_start_and_stop(env: dict[str, str], mt_home: Path) -> None:
    where = locations()
    started = mt_json(env, "daemon", "start")
    pid = started["pid"]
    try:
        assert started["socket"] == str(where.socket_file)
        assert where.pid_file.read_text().strip() == str(pid)
        assert stat.S_IMODE(where.socket_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(where.socket_file.parent.stat().st_mode) == 0o700
        status = mt_json(env, "status")
        assert status["pid"] == pid and status["venue"] == {
            "id": "sim-live",
            "kind": "sim",
            "simulated": True,
            "ended": None,  # a replay's data ran out (see test_api's replay test); never a simulated market
        }
        assert {"api", "alerts", "market-feed", "scheduler"} <= {s["name"] for s in status["services"]}
        again = mt(env, "daemon", "start")  # LSB: "start" of a running service succeeds
        assert again.returncode == 0
        assert again.stderr == (
            f"the daemon is already running (pid {pid}), listening on {where.socket_file}\n"
        )
        assert mt_json(env, "daemon", "status")["running"] is True
    finally:
        stopped = mt(env, "daemon", "stop")
    assert stopped.returncode == 0 and stopped.stderr == f"daemon stopped (pid {pid})\n"
    assert not alive(pid)
    assert not where.pid_file.exists() and not where.socket_file.exists()
    log = where.log_file.read_text()
    assert "stopping: SIGTERM received" in log and "daemon stopped" in log
    assert stat.S_IMODE(where.log_file.stat().st_mode) == 0o600


def test_kill_9_loses_no_candle_and_the_next_start_recovers(env: dict[str, str], mt_home: Path) -> None:
    where = locations()
    pid = mt_json(env, "daemon", "start")["pid"]
    try:
        wait_until(lambda: len(stored(mt_home)) >= 4)
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not alive(pid))
        before = stored(mt_home)  # everything committed up to the kill
        assert where.pid_file.exists() and where.socket_file.exists()  # what the crash left
        crashed = mt(env, "daemon", "status", "--json")
        assert crashed.returncode == 3 and json.loads(crashed.stdout)["running"] is False
        assert json.loads(crashed.stdout)["stale_files"] == [str(where.pid_file), str(where.socket_file)]
        refused = mt(env, "status")
        assert refused.returncode == 1 and "the daemon is not running" in refused.stderr

        pid = mt_json(env, "daemon", "start")["pid"]
        status = mt_json(env, "status")
        assert status["recovered"] is True
        after = wait_until(lambda: (rows := stored(mt_home)) and len(rows) > len(before) and rows)
        assert before <= after  # no stored candle lost, none rewritten
        alerts = wait_until(lambda: mt_json(env, "alerts", "history"))
        assert (
            alerts[0]["title"] == "Daemon restarted after an unclean stop"
            and alerts[0]["severity"] == "critical"
        )
    finally:
        mt(env, "daemon", "stop")
    assert not where.pid_file.exists() and not where.socket_file.exists()


def test_foreground_stops_cleanly_on_sigint(env: dict[str, str]) -> None:
    sig = signal.SIGINT  # what Ctrl+C sends; `mt daemon stop` (SIGTERM) is covered above
    where = locations()
    process = subprocess.Popen(
        [MT, "daemon", "start", "--foreground"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: mt(env, "daemon", "status", "--json").stdout.count('"running": true'))
        wait_until(lambda: mt(env, "status").returncode == 0)
        process.send_signal(sig)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert f"stopping: {sig.name} received" in err and "daemon stopped" in err  # foreground logs to stderr
    assert not where.pid_file.exists() and not where.socket_file.exists()


def test_a_failed_start_is_reported_with_its_reason(env: dict[str, str]) -> None:
    env = {**env, "MT_DB__URL": "postgresql+asyncpg://nobody@127.0.0.1:9/none"}
    result = mt(env, "daemon", "start")
    assert result.returncode == 1
    assert result.stderr.startswith("mt: error: the daemon exited during start-up (exit code 1): ")
    assert not locations().pid_file.exists()
    bad = mt({**env, "MT_MARKET__TIMEFRAME": "7x"}, "daemon", "start")
    assert bad.returncode == 2 and "invalid timeframe '7x'" in bad.stderr


def test_a_start_the_daemon_refuses_as_bad_input_exits_2_as_in_the_foreground(env: dict[str, str]) -> None:
    """Refusals found once the daemon runs (a relative SQLite path, a port out of range) exited 2 in the
    foreground (systemd's RestartPreventExitStatus=2) but 1 from `mt daemon start`, worded as a crash
    ("the daemon exited during start-up (exit code 2): ..."): now both exit 2 with the same line."""
    env = {**env, "MT_DB__URL": "sqlite+aiosqlite:///relative.db"}
    foreground = mt(env, "daemon", "start", "--foreground")
    assert foreground.returncode == 2
    said = next(line for line in foreground.stderr.splitlines() if line.startswith("mt: error: "))
    assert "'relative.db' in the database URL is a relative path" in said
    background = mt(env, "daemon", "start")
    assert background.returncode == 2 and background.stderr == said + "\n", background.stderr
    assert not locations().pid_file.exists()


def test_a_quote_other_than_the_books_is_refused_before_they_are_valued_at_0(env: dict[str, str]) -> None:
    """The paper account's book keeps its cash in USDT. Started again with `[paper] quote = "EUR"` (and EUR
    symbols), the daemon valued that cash at nothing: equity 0.00, a 100% drawdown, its loss limits tripped
    and every order refused. Now it refuses to start, in one line naming both currencies, exit 2, in the
    foreground and from `mt daemon start`; with the old quote back it starts and the cash is all there."""
    assert mt(env, "daemon", "start").returncode == 0
    before = mt_json(env, "balance")
    assert mt(env, "daemon", "stop").returncode == 0
    euro = {**env, "MT_PAPER__QUOTE": "EUR", "MT_MARKET__SYMBOLS": '["BTC/EUR"]'}
    foreground = mt(euro, "daemon", "start", "--foreground")
    assert foreground.returncode == 2, foreground.stderr
    said = [line for line in foreground.stderr.splitlines() if line.startswith("mt: error: ")]
    assert len(said) == 1 and "[paper] quote 'EUR'" in said[0] and "in USDT" in said[0], foreground.stderr
    assert "set quote = 'USDT' back" in said[0]
    background = mt(euro, "daemon", "start")
    assert background.returncode == 2 and background.stderr == said[0] + "\n", background.stderr
    assert not locations().pid_file.exists()
    assert mt(env, "daemon", "start").returncode == 0
    try:
        after = mt_json(env, "balance")
        assert after["balances"]["USDT"] == before["balances"]["USDT"]
    finally:
        mt(env, "daemon", "stop")


def test_logs_follow_prints_new_records_across_a_rotation(env: dict[str, str]) -> None:
    log = locations().log_file
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("2026-01-01T00:00:00.000Z INFO a: old\n", encoding="utf-8")
    process = subprocess.Popen(
        [MT, "daemon", "logs", "-f", "-n", "1", "--json"], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert json.loads(process.stdout.readline())["message"] == "old"
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(
                "2026-01-01T00:00:01.000Z ERROR b: failed\nTraceback (most recent call last):\nX: y\n"
            )
        record = json.loads(process.stdout.readline())
        assert (
            record["level"] == "ERROR"
            and record["message"] == "failed\nTraceback (most recent call last):\nX: y"
        )
        log.rename(log.with_name("daemon.log.1"))  # what the rotating handler does
        log.write_text("2026-01-01T00:00:02.000Z INFO c: after rotation\n", encoding="utf-8")
        assert json.loads(process.stdout.readline())["message"] == "after rotation"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
    assert process.returncode == 0


@pytest.mark.timeout(30)  # a follower that never says it waits would block on readline
def test_logs_follow_before_any_log_says_it_waits_then_prints(env: dict[str, str]) -> None:
    log = locations().log_file
    process = subprocess.Popen(
        [MT, "daemon", "logs", "-f", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        assert process.stderr.readline() == f"no daemon log yet ({log}); waiting for it\n"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("2026-01-01T00:00:00.000Z INFO a: first\n", encoding="utf-8")
        assert json.loads(process.stdout.readline())["message"] == "first"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    assert process.returncode == 0


# A daemon whose stop leaves a worker thread computing for cancelled work (a generation's search stops
# only at its next generation): the engine is replaced by one that leaves such a thread behind.
LINGERING = """
import asyncio, threading
from mastertrade.config import load_settings
from mastertrade.engine import daemon

class Engine:
    def __init__(self, *args, **kwargs):
        pass

    async def run(self):
        asyncio.get_running_loop().run_in_executor(None, threading.Event().wait)  # never set

daemon.Daemon = Engine
daemon.run_foreground(load_settings(), log_to_stderr=False)
print("the interpreter would wait for the thread")
"""


def test_a_stopped_daemon_does_not_wait_for_worker_threads(env: dict[str, str]) -> None:
    where = locations()
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", LINGERING], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert time.monotonic() - started < 20
    assert not where.pid_file.exists()
    assert "exiting without waiting for 1 worker thread(s) still finishing cancelled work: mt-worker" in (
        where.log_file.read_text()
    )
