"""The morning report counts the alerts of the last 24 h from `mt alerts history`, which lists the newest
ones up to its limit: with more alerts than that in a day (a breaker tripping all night), the report said
"Alerts in the last 24 h: 200" as if that were all of them. It now asks for the most the command lists
and, when every one listed is of the last 24 h, says "at least N"."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import MT

STATUS = {
    "venue": {"id": "sim-live"},
    "mode": "paper",
    "uptime_s": 7200,
    "services": [],
    "symbols": [],
    "jobs": [],
}


def _script(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


def _report(mt: MT, tmp_path: Path, alerts_in_day: int) -> str:
    mt.json("examples", "nightly-report.sh", "--write", str(tmp_path), "--mt", "fake-mt")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sent = tmp_path / "sent.txt"
    # `alerts history --limit N --json`: the newest N of `alerts_in_day` alerts of today, then older ones
    _script(
        bin_dir / "fake-mt",
        "#!/bin/sh\n"
        f"case \"$1 $2\" in\n  'status --json') echo '{json.dumps(STATUS)}';;\n"
        "  'alerts history') jq -n --argjson n \"$4\" --argjson day "
        f'{alerts_in_day} \'[range($n) | {{created_at: (if . < $day then "2099-01-01T00:00:00Z" '
        'else "2000-01-01T00:00:00Z" end), severity: "info", title: "x"}]\';;\n'
        f"  'alerts test') printf '%s' \"$4\" > {sent}; echo '{{}}';;\nesac\n",
    )
    done = subprocess.run(  # noqa: S603 - our own files
        ["/bin/bash", str(tmp_path / "nightly-report.sh")],
        env={"PATH": f"{bin_dir}:{os.environ['PATH']}", "MT": "fake-mt"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return sent.read_text()


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_more_alerts_than_listed_are_counted_as_at_least(mt: MT, tmp_path: Path) -> None:
    report = _report(mt, tmp_path, alerts_in_day=5000)
    assert "Alerts in the last 24 h: at least 1000" in report, report


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_a_day_with_fewer_alerts_is_counted_exactly(mt: MT, tmp_path: Path) -> None:
    report = _report(mt, tmp_path, alerts_in_day=250)
    assert "Alerts in the last 24 h: 250\n" in report + "\n", report
