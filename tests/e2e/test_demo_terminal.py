"""`mt demo` in a real terminal (tmux): the workspace is created, the daemon starts, the dashboard opens
with the SIMULATED badge, prices change on the Market screen, and quitting stops the demo daemon."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.xdist_group("daemon-process"),
]


class Terminal:
    def __init__(self, name: str) -> None:
        self.name = name

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def screen(self) -> str:
        out = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True, check=False
        )
        return out.stdout

    def wait_for(self, pattern: str, timeout: float = 120.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if re.search(pattern, screen):
                return screen
            time.sleep(0.25)
        raise AssertionError(f"{pattern!r} did not appear within {timeout} s; the screen was:\n{screen}")

    def alive(self) -> bool:
        return subprocess.run(["tmux", "has-session", "-t", self.name], capture_output=True).returncode == 0


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[tuple[Terminal, Path]]:
    home = tmp_path / "demo"
    name = f"mt-demo-{uuid.uuid4().hex[:8]}"
    env = {
        "MT_HOME": str(home),  # only for the cleanup below: `--home` is what the demo uses
        "NUMBA_CACHE_DIR": os.environ["NUMBA_CACHE_DIR"],
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
    }
    command = f"{sys.executable} -m mastertrade demo --home {home}"
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", name, "-x", "160", "-y", "48"]
        + [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        + [command + "; sleep 30"],
        check=True,
    )
    try:
        yield Terminal(name), home
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
        subprocess.run(
            [sys.executable, "-m", "mastertrade", "daemon", "stop"],
            env={**os.environ, "MT_HOME": str(home)},
            capture_output=True,
        )


def watchlist_prices(screen: str) -> dict[str, str]:
    return dict(re.findall(r"((?:BTC|ETH|SOL)/USDT)\s+([\d,]+\.\d+)", screen))


def test_demo_runs_in_a_terminal_and_quitting_stops_its_daemon(terminal: tuple[Terminal, Path]) -> None:
    term, home = terminal
    term.wait_for(r"SIMULATED", timeout=180)
    assert (home / "config" / "config.toml").exists() and (home / "data" / "mastertrade.db").exists()

    term.keys("2")  # the Market screen: the watchlist
    first = watchlist_prices(term.wait_for(r"BTC/USDT\s+[\d,]+\.\d+"))
    assert set(first) == {"BTC/USDT", "ETH/USDT", "SOL/USDT"}
    changed = False
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not changed:
        time.sleep(1)
        changed = watchlist_prices(term.screen()) != first
    assert changed, "prices did not change on the Market screen"

    term.keys("q")
    term.wait_for(r"Stop it and quit")
    term.keys("s")
    deadline = time.monotonic() + 60
    pid_file = home / "run" / "daemon.pid"
    while time.monotonic() < deadline and pid_file.exists():
        time.sleep(0.25)
    assert not pid_file.exists(), "the demo daemon kept running after 'Stop it and quit'"
