"""A database or disk the command cannot write ended `mt` with a Python traceback: `mt data sim` on a full
disk (or a SQLite file another process held locked past the busy timeout) printed 150 lines ending in
`sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database or disk is full` and the SQL
statement with its parameters, and `mt daemon start` on a read-only workspace ended in `OSError: [Errno 30]
Read-only file system`. Each is now one line, exit 1, and nothing is half-written."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import MT


def test_a_locked_database_is_one_line_and_nothing_is_stored(
    mt: MT, mt_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert mt("data", "list").exit_code == 0  # creates the database
    monkeypatch.setenv("MT_DB__BUSY_TIMEOUT_MS", "50")
    other = sqlite3.connect(mt_home / "data" / "mastertrade.db", isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")  # another process holds the file
        result = mt("data", "sim", "BTC/USDT", "--bars", "500")
    finally:
        other.execute("COMMIT")
        other.close()
    assert result.exit_code == 1, result.output[-800:]
    assert result.stderr == "mt: error: the database cannot be used: database is locked\n"
    assert mt.json("data", "list") == []  # rolled back as a whole


def test_a_read_only_workspace_is_one_line(mt: MT, monkeypatch: pytest.MonkeyPatch) -> None:
    from mastertrade.engine import daemon

    def read_only(path: Path) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(daemon, "ensure_private_dir", read_only)
    result = mt("daemon", "start")
    assert result.exit_code == 1, result.output[-800:]
    assert result.stderr.startswith("mt: error: cannot write ") and result.stderr.count("\n") == 1
    assert result.stderr.endswith(": Read-only file system\n")
