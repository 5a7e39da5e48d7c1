"""Start-up stays cheap and the engine stands without the UI, checked in fresh interpreters."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = [
    "pandas",
    "numpy",
    "ccxt",
    "numba",
    "backtesting",
    "pandas_ta",
    "deap",
    "sqlalchemy",
    "apprise",
]
# rich is not listed: httpx imports it (for its own command-line tool) whenever it is installed, so any
# HTTP client pulls it in. That the engine never imports rich itself is the import-linter contract's job.
UI = ["textual"]


def modules_after(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_mt_help_imports_nothing_heavy() -> None:
    loaded = modules_after(
        "import sys\nfrom mastertrade.cli.app import app\nsys.argv = ['mt', '--help']\n"
        "try:\n    app()\nexcept SystemExit:\n    pass"
    )
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_headless_modules_never_import_the_ui() -> None:
    import pkgutil

    import mastertrade

    headless = [
        info.name
        for info in pkgutil.walk_packages(mastertrade.__path__, "mastertrade.")
        if not info.name.startswith(("mastertrade.cli", "mastertrade.tui", "mastertrade.db.migrations"))
        and info.name != "mastertrade.__main__"
    ]
    loaded = modules_after("\n".join(f"import {name}" for name in headless))
    assert not loaded & set(UI), sorted(loaded & set(UI))
