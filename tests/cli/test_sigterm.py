"""SIGTERM (``timeout``, cron wrappers, systemd, ``kill``) ends a long command as Ctrl-C does. Before, a
``mt generate`` killed that way died on the spot: its run stayed "running" for ever with no outcome, as
after a crash, and nothing was said. Now the run is recorded "cancelled", nothing of it is stored, one
line says so and the exit code is 143 (Ctrl-C's is 130)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

MT = [sys.executable, "-m", "mastertrade"]


def _running_run(db: Path, process: subprocess.Popen[str], timeout_s: float = 120.0) -> int:
    """The id of the generation run once its row is written (its outcome still "running")."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if db.exists():
            with sqlite3.connect(db) as conn:
                try:
                    row = conn.execute("SELECT id FROM generation_runs WHERE outcome = 'running'").fetchone()
                except sqlite3.OperationalError:  # the table is still to be created
                    row = None
            if row is not None:
                return int(row[0])
        time.sleep(0.05)  # polling for the row: the event awaited, not a guess at how long it takes
    raise AssertionError("the generation run never started")


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# A job a non-interactive shell starts with & (a cron script) has SIGINT ignored: SIGTERM still ends it
@pytest.mark.parametrize("sigint_ignored", [False, True], ids=["sigint-handled", "sigint-ignored"])
def test_sigterm_cancels_a_generation_like_ctrl_c(mt_home: Path, sigint_ignored: bool) -> None:
    env = {**os.environ, "MT_HOME": str(mt_home)}
    subprocess.run(
        [*MT, "data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", "3000", "--seed", "1"],
        env=env,
        check=True,
        capture_output=True,
    )
    db = mt_home / "data" / "mastertrade.db"
    command = [*MT, "generate", "--symbol", "BTC/USDT", "--timeframe", "1h", "--seed", "7"]
    # a search far longer than the test: only a SIGTERM ends it
    command += ["--population", "400", "--generations", "400", "--workers", "1"]
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ignore_sigint if sigint_ignored else None,  # noqa: PLW1509 - a signal disposition only
    )
    try:
        run_id = _running_run(db, process)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 143, err
    assert out == ""
    assert err.splitlines()[-1] == "mt: error: terminated (SIGTERM)"
    assert "Traceback" not in err
    with sqlite3.connect(db) as conn:
        outcome, error, finished = conn.execute(
            "SELECT outcome, error, finished_at FROM generation_runs WHERE id = ?", (run_id,)
        ).fetchone()
        stored = conn.execute("SELECT count(*) FROM strategies").fetchone()[0]
    assert (outcome, error) == ("cancelled", "interrupted before it finished")
    assert finished is not None
    assert stored == 0
