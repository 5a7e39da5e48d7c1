"""A process that ends while the compiled kernels are still loading on a thread (``mt generate`` ended by
SIGTERM or Ctrl-C during its start-up, a search that failed before its first batch) waits for that thread
before the interpreter finalises. The loading threads were daemon threads: the interpreter finalised
around them, and one still inside numba (LLVM through ctypes, a nogil kernel) took the GIL back after
the thread states were freed (CPython 3.12: gh-110052, gh-87135), which can crash the process after its
last line (seen once: exit -11 after "mt: error: terminated (SIGTERM)").

Each case runs in a fresh interpreter whose loading is replaced by work that lasts a second (loading
from numba's cache takes a tenth of that, compiling it tens of seconds), so the process reaches its end
while the thread is still at work; an ``atexit`` hook, which runs once the interpreter has joined the
threads it waits for and before it finalises, lists the threads still running then."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The loading stand-in, and the hook that reports what still runs when finalisation begins.
PRELUDE = """
import atexit
import threading
import time

started = threading.Event()

def loading(*args, **kwargs):
    started.set()
    time.sleep(1.0)  # the work itself, not a wait for something: a kernel that takes long to load

def report():
    running = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    print("running at finalisation:", sorted(running), flush=True)
"""

CASES = {
    # mt generate's start-up: the scoring kernels load on a thread while the command opens the database
    "preload": """
from mastertrade.engine.generator import pipeline

pipeline.load_scoring_kernels = loading
pipeline.preload()
""",
    # the search's executor, left unclosed: its kernels load on a thread while the search breeds
    "executor": """
import numpy as np
import pandas as pd

from mastertrade.engine.generator.evaluation import Problem, Scorer
from mastertrade.engine.generator.executor import ThreadExecutor

Scorer.load_kernels = loading
close = np.linspace(100.0, 110.0, 24 * 16)
index = pd.date_range("2024-01-01", periods=len(close), freq="h", tz="UTC")
frame = pd.DataFrame(
    {"open": close, "high": close + 1, "low": close - 1, "close": close, "volume": np.ones(len(close))},
    index=index,
)
executor = ThreadExecutor(Problem(frame), workers=1)
""",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_interpreter_waits_for_a_loading_thread_before_it_finalises(case: str) -> None:
    script = PRELUDE + CASES[case] + "started.wait()\natexit.register(report)\n"
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "running at finalisation: []", done.stdout
