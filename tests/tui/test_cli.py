"""``mt tui`` is registered, documented, and costs ``mt --help`` nothing (Textual loads only inside it)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def test_mt_tui_help(mt: Any) -> None:
    result = mt("tui", "--help")
    assert result.exit_code == 0
    assert "live dashboard" in result.stdout and "--demo" in result.stdout


def test_mt_help_lists_tui_without_importing_textual() -> None:
    script = (
        "import sys, json\nfrom mastertrade.cli.app import app\nsys.argv = ['mt', '--help']\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\nprint(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    assert " tui " in out.stdout
    modules = set(json.loads(out.stdout.splitlines()[-1]))
    assert not {
        name for name in modules if name == "textual" or name.startswith(("textual.", "mastertrade.tui"))
    }
