"""`mt daemon logs -n N` shows the N newest records even just after the log was rotated. It read only the
current file, so right after a rotation `mt daemon logs` showed one or two records (none of the ones
that led up to it) without saying there were more: they are in `daemon.log.1`, which it now reads too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mastertrade.locations import locations

pytestmark = pytest.mark.xdist_group("daemon-process")

MT = str(Path(sys.executable).with_name("mt"))


def record(second: int, message: str) -> str:
    return f"2026-01-01T00:00:{second:02d}.000Z INFO a: {message}\n"


def test_the_newest_records_come_from_the_rotated_files_too(mt_home: Path) -> None:
    log = locations().log_file
    log.parent.mkdir(parents=True, exist_ok=True)
    log.with_name("daemon.log.2").write_text(record(1, "one") + record(2, "two"), encoding="utf-8")
    log.with_name("daemon.log.1").write_text(
        record(3, "three") + record(4, "failed") + "Traceback (most recent call last):\nX: y\n",
        encoding="utf-8",
    )
    log.write_text(record(5, "five"), encoding="utf-8")
    env = {**os.environ, "MT_HOME": str(mt_home)}

    def shown(*args: str) -> list[str]:
        result = subprocess.run(
            [MT, "daemon", "logs", *args, "--json"], env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return [item["message"] for item in json.loads(result.stdout)]

    assert shown("-n", "3") == ["three", "failed\nTraceback (most recent call last):\nX: y", "five"]
    assert shown("-n", "50") == [
        "one",
        "two",
        "three",
        "failed\nTraceback (most recent call last):\nX: y",
        "five",
    ]
    assert shown("-n", "1") == ["five"]
