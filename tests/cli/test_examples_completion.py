"""``mt examples <TAB>`` completes the example names (it offered nothing: a user had to run
``mt examples`` first to learn them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

MT_SCRIPT = Path(sys.executable).parent / "mt"


@pytest.mark.skipif(not MT_SCRIPT.exists(), reason="the mt console script is not installed beside python")
@pytest.mark.parametrize(
    ("typed", "offered"),
    [
        ("", ["crontab", "keep-alive.sh", "nightly-report.sh", "mastertrade.service"]),
        ("k", ["keep-alive.sh"]),
        ("x", []),
    ],
)
def test_bash_completes_the_example_names(typed: str, offered: list[str]) -> None:
    env = {
        **os.environ,
        "COMP_WORDS": f"mt examples {typed}",
        "COMP_CWORD": "2",
        "_MT_COMPLETE": "complete_bash",
    }
    done = subprocess.run(  # noqa: S603 - our own command
        [str(MT_SCRIPT)], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == offered
