"""`mt daemon logs -f` across a rotation prints the records the daemon wrote to the old file just before
it was rotated. The follower noticed the new file and read it from its top, but whatever had been
appended to the old one since its last read (a busy daemon logs several records between two polls)
was never printed: it went on from the new file's first record.

Runs `mt daemon logs -f` as a process (no daemon), so it shares the daemon-process xdist group."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mastertrade.locations import locations

pytestmark = [pytest.mark.xdist_group("daemon-process"), pytest.mark.timeout(30)]

MT = str(Path(sys.executable).with_name("mt"))


def test_records_written_just_before_a_rotation_are_printed(mt_home: Path) -> None:
    log = locations().log_file
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("2026-01-01T00:00:00.000Z INFO a: before\n", encoding="utf-8")
    process = subprocess.Popen(
        [MT, "daemon", "logs", "-f", "-n", "1", "--json"],
        env={**os.environ, "MT_HOME": str(mt_home)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert json.loads(process.stdout.readline())["message"] == "before"  # it follows from here
        with open(log, "a", encoding="utf-8") as handle:
            handle.write("2026-01-01T00:00:01.000Z INFO a: first\n")
        # a followed record is printed once a poll found nothing after it: the follower has just gone
        # to sleep until its next poll
        assert json.loads(process.stdout.readline())["message"] == "first"
        # before that poll: two more records, then the rotation (what RotatingFileHandler does), then one
        with open(log, "a", encoding="utf-8") as handle:
            handle.write("2026-01-01T00:00:02.000Z INFO b: second\n2026-01-01T00:00:03.000Z INFO c: third\n")
        log.rename(log.with_name("daemon.log.1"))
        log.write_text("2026-01-01T00:00:04.000Z INFO d: fourth\n", encoding="utf-8")
        seen = [json.loads(process.stdout.readline())["message"] for _ in range(3)]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
    assert seen == ["second", "third", "fourth"]
