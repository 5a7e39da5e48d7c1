"""The morning report script of ``mt examples`` runs where ``date`` is BSD's (macOS, which the README
supports): ``date -d '24 hours ago'`` is GNU's; with ``set -e`` the script died before sending anything."""

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
    "services": [{"name": "trading", "state": "running", "restarts": 0}],
    "symbols": [{"symbol": "BTC/USDT", "price": 20000.5}],
    "jobs": [],
}
ALERTS = [{"created_at": "2026-12-03T10:00:00Z", "severity": "critical", "title": "drawdown limit"}]


def _script(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_the_report_is_sent_where_date_is_bsds(mt: MT, tmp_path: Path) -> None:
    mt.json("examples", "nightly-report.sh", "--write", str(tmp_path), "--mt", "fake-mt")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sent = tmp_path / "sent.txt"
    # BSD date: no -d; -v-24H moves the clock back a day
    _script(
        bin_dir / "date",
        '#!/bin/sh\ncase "$*" in *-d*) echo "date: illegal option -- d" >&2; exit 1;; esac\n'
        'case "$*" in *-v-24H*) echo 2026-12-03T06:30:00Z; exit 0;; esac\nexec /bin/date "$@"\n',
    )
    _script(
        bin_dir / "fake-mt",
        "#!/bin/sh\n"
        f"case \"$1 $2\" in\n  'status --json') echo '{json.dumps(STATUS)}';;\n"
        f"  'alerts history') echo '{json.dumps(ALERTS)}';;\n"
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
    report = sent.read_text()
    assert report.startswith("MasterTrade daily report (sim-live, paper mode, up 2 h)")
    assert "Alerts in the last 24 h: 1" in report and "CRITICAL: drawdown limit" in report
