"""The dashboard needs a terminal: Textual draws on stderr and reads keys from stdin. `mt tui 2>log`
used to write escape codes into the file for ever and show nothing; it now says why, exit 2. A scripted
`mt demo` (no terminal) runs everything and leaves the dashboard for later, saying so."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.test_demo_workspace import _FakeDaemon


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize(
    ("stderr_tty", "stdin_tty", "named"),
    [(False, True, "its stderr is not a terminal"), (True, False, "its stdin is not a terminal")],
)
def test_the_dashboard_without_a_terminal_says_why(
    mt: Any, monkeypatch: pytest.MonkeyPatch, stderr_tty: bool, stdin_tty: bool, named: str
) -> None:
    import mastertrade.cli.tui as cli_tui

    opened: list[bool] = []
    monkeypatch.setattr(cli_tui, "run_dashboard", lambda **_: opened.append(True) or 0)
    monkeypatch.setattr(sys, "__stderr__", _Stream(stderr_tty))
    monkeypatch.setattr(sys, "__stdin__", _Stream(stdin_tty))
    result = mt("tui")
    assert result.exit_code == 2 and not opened
    assert result.stderr.startswith(f"mt: error: cannot open the dashboard: {named}")
    assert result.stderr.count("\n") == 1


def test_the_dashboard_opens_in_a_terminal(mt: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import mastertrade.cli.tui as cli_tui

    opened: list[bool] = []
    monkeypatch.setattr(cli_tui, "run_dashboard", lambda **_: opened.append(True) or 0)
    monkeypatch.setattr(sys, "__stderr__", _Stream(True))
    monkeypatch.setattr(sys, "__stdin__", _Stream(True))
    assert mt("tui").exit_code == 0 and opened == [True]


def test_a_demo_without_a_terminal_runs_and_leaves_the_dashboard_for_later(
    mt: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mastertrade.cli.demo as cli_demo
    import mastertrade.cli.tui as cli_tui
    from mastertrade.engine import daemon
    from mastertrade.engine import demo as engine_demo

    fake = _FakeDaemon()
    for name in ("spawn", "running_pid", "settled_pid", "stop"):
        monkeypatch.setattr(daemon, name, getattr(fake, name))

    async def prepare(settings: object, *, say: Any) -> dict[str, Any]:
        return {}

    monkeypatch.setattr(engine_demo, "prepare", prepare)
    monkeypatch.setattr(cli_demo, "_generate_and_activate", lambda say: {"activated": ["s1"]})
    opened: list[bool] = []
    monkeypatch.setattr(cli_tui, "run_dashboard", lambda **_: opened.append(True) or 0)
    monkeypatch.setattr(sys, "__stderr__", _Stream(False))
    home = tmp_path / "demo"
    result = mt("demo", "--home", str(home), "--json")
    assert result.exit_code == 0, result.output
    assert not opened and fake.pid == 4242 and fake.stopped == 0  # the daemon keeps running
    report = json.loads(result.stdout)
    assert report["dashboard"].startswith("not opened: its stderr is not a terminal")
    assert "mt: warning: the dashboard was not opened" in result.stderr
