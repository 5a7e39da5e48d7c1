"""A SIGTERM that reaches the daemon after its run has ended (a start that failed by itself just as
`mt daemon start` gave up waiting and stopped it) no longer kills it before it has cleaned up. The
signal handlers were removed with the run, so the default action ended the process at once: its pid
file stayed, and the next start reported an unclean stop (a critical alert) that never happened."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("daemon-process")

SCRIPT = """
import asyncio, os, signal
from mastertrade.config import load_settings
from mastertrade.engine.daemon import Daemon
from tests.daemon.fakes import FakeVenue

def no_services(ctx):
    raise RuntimeError("the start failed by itself")

try:
    asyncio.run(Daemon(load_settings(), venue=FakeVenue(), services=no_services, serve_api=False).run())
except RuntimeError as exc:
    print("failed:", exc, flush=True)
os.kill(os.getpid(), signal.SIGTERM)  # what the giving-up start sends, as the process cleans up
print("cleaned up", flush=True)
"""


def test_a_sigterm_after_the_run_ended_does_not_cut_the_clean_up_short(mt_home: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env={**os.environ, "MT_HOME": str(mt_home), "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=root,
    )
    assert "failed: the start failed by itself" in result.stdout, result.stderr
    assert result.returncode == 0 and "cleaned up" in result.stdout, (result.returncode, result.stderr)
