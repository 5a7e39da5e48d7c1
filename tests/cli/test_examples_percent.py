"""``mt examples --write``: a ``%`` in the folder or the workspace is escaped where it is special, so cron
does not cut the command at it (a bare ``%`` is a newline to cron) and systemd does not take it for a
specifier (``%h`` is the home folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_examples import MT_COMMAND, crontab, run_like_cron
from tests.conftest import MT


def test_a_percent_sign_in_the_folder_survives_cron(mt: MT, tmp_path: Path) -> None:
    target = tmp_path / "jobs 100%h"
    mt.json("examples", "crontab", "--write", str(target), "--mt", MT_COMMAND)
    variables, (_, _, snapshot) = crontab(target / "crontab")  # refuses an unescaped % in a command
    fake_home = tmp_path / "cron-home"
    fake_home.mkdir()
    assert run_like_cron(snapshot, variables, fake_home).returncode != 0  # no daemon runs
    assert "mt: error: the daemon is not running" in (target / "cron.log").read_text()


def test_a_percent_sign_in_the_unit_is_not_a_specifier(
    mt: MT, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = tmp_path / "trading 100%h"
    monkeypatch.setenv("MT_HOME", str(workspace))
    mt.json("examples", "mastertrade.service", "--write", str(tmp_path), "--mt", "/opt/50%d/mt")
    text = (tmp_path / "mastertrade.service").read_text()
    assert "ExecStart=/opt/50%%d/mt daemon start --foreground" in text
    assert f'Environment="MT_HOME={str(workspace).replace("%", "%%")}"' in text


def test_the_crontab_does_not_promise_utc_times_cron_does_not_keep(mt: MT, tmp_path: Path) -> None:
    mt.json("examples", "crontab", "--write", str(tmp_path), "--mt", MT_COMMAND)
    variables, jobs = crontab(tmp_path / "crontab")
    text = (tmp_path / "crontab").read_text()
    # cron reads "30 6 * * *" in the machine's time zone unless CRON_TZ says otherwise
    assert "CRON_TZ" in variables or "at 06:30 UTC" not in text
    assert "in cron's" in text and "time zone, the machine's" in text
