"""``mt examples``: the crontab, scripts and systemd unit ship in the package, and the cron lines work
under cron's minimal environment (``env -i`` with cron's PATH, no login shell, nothing of ours on
PATH) against a temporary workspace: keep-alive starts the daemon, then leaves it alone, the status
snapshot is written, and the morning report reaches the alert target."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mastertrade.locations import locations
from tests.conftest import MT
from tests.daemon.fakes import Receiver

CRON_PATH = "/usr/bin:/bin"
MT_COMMAND = f"{sys.executable} -m mastertrade"


def crontab(path: Path) -> tuple[dict[str, str], list[str]]:
    """What cron makes of a crontab: variable assignments taken literally (no $HOME, no ~), and each
    job's command with cron's `%` rule applied (`\\%` is a literal percent sign)."""
    env: dict[str, str] = {}
    jobs: list[str] = []
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        head = stripped.split(None, 1)[0]
        if "=" in head and not head[0].isdigit() and not head.startswith("*"):
            name, value = stripped.split("=", 1)
            env[name.strip()] = value.strip().strip("'\"")
            continue
        command = stripped.split(None, 5)[5]
        assert "%" not in command.replace("\\%", ""), f"unescaped % in a cron line: {command}"
        jobs.append(command.replace("\\%", "%"))
    return env, jobs


def run_like_cron(command: str, variables: dict[str, str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": CRON_PATH, "HOME": str(home), "SHELL": "/bin/sh", "LOGNAME": "cron", **variables}
    # Only when the code under test is not the installed package (a development checkout) does the job
    # need to be told where it is; an installed mt needs nothing from this environment.
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return subprocess.run(  # noqa: S603 - our own files
        ["/usr/bin/env", "-i", *(f"{k}={v}" for k, v in env.items()), "/bin/sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def stop_daemon(mt_home: Path) -> Iterator[None]:
    yield
    pid_file = locations().pid_file
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGTERM)
        except (ProcessLookupError, ValueError):
            return
        deadline = time.monotonic() + 30
        while pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)


def test_examples_ship_in_the_package_and_print(mt: MT, mt_home: Path) -> None:
    listed = mt.json("examples")
    assert {e["name"] for e in listed} == {
        "crontab",
        "keep-alive.sh",
        "nightly-report.sh",
        "mastertrade.service",
    }
    unit = mt("examples", "mastertrade.service", "--mt", "/opt/mt/bin/mt")
    assert unit.exit_code == 0
    assert "ExecStart=/opt/mt/bin/mt daemon start --foreground" in unit.stdout
    assert "\nRestartPreventExitStatus=2\n" in unit.stdout  # a refused start is not retried forever
    assert f'Environment="MT_HOME={mt_home}"' in unit.stdout
    assert "@" not in unit.stdout.replace("@DIR@", "")  # every token filled in
    bad = mt("examples", "anacron")
    assert bad.exit_code == 2 and bad.stderr.startswith("mt: error: unknown example 'anacron'")


def test_write_keeps_a_changed_file_unless_forced(mt: MT, tmp_path: Path) -> None:
    target = tmp_path / "cron"
    mt.json("examples", "keep-alive.sh", "--write", str(target))
    script = target / "keep-alive.sh"
    assert os.access(script, os.X_OK)
    script.write_text("# my own edits\n")
    again = mt("examples", "keep-alive.sh", "--write", str(target))
    assert again.exit_code == 2 and "exists with other content" in again.stderr
    assert script.read_text() == "# my own edits\n"
    mt.json("examples", "keep-alive.sh", "--write", str(target), "--force")
    assert "daemon start" in script.read_text()


@pytest.mark.timeout(240)
def test_cron_lines_work_in_crons_minimal_environment(
    mt: MT, mt_home: Path, tmp_path: Path, stop_daemon: None
) -> None:
    with Receiver() as receiver:
        config = locations().config_file
        config.parent.mkdir(parents=True)
        config.write_text(f'[alerts]\nurls = ["{receiver.url("report")}"]\n')
        target = tmp_path / "cron"
        written = mt.json("examples", "crontab", "--write", str(target), "--mt", MT_COMMAND)
        assert {Path(p).name for p in written["written"]} == {"crontab", "keep-alive.sh", "nightly-report.sh"}
        variables, jobs = crontab(target / "crontab")
        assert variables == {"MT": MT_COMMAND, "MT_HOME": str(mt_home)}
        keep_alive, report, snapshot = jobs
        fake_home = tmp_path / "cron-home"
        fake_home.mkdir()

        assert run_like_cron(keep_alive, variables, fake_home).returncode == 0
        status = mt.json("daemon", "status")
        assert status["running"] is True, (target / "cron.log").read_text()
        first_pid = status["pid"]
        assert run_like_cron(keep_alive, variables, fake_home).returncode == 0  # already up: a no-op
        assert mt.json("daemon", "status")["pid"] == first_pid

        assert run_like_cron(snapshot, variables, fake_home).returncode == 0
        (snapshot_file,) = target.glob("status-*.json")
        assert json.loads(snapshot_file.read_text())["pid"] == first_pid

        done = run_like_cron(report, variables, fake_home)
        assert done.returncode == 0, (target / "cron.log").read_text()
        (message,) = receiver.received
        assert message["title"] == "MasterTrade daily report"
        assert message["message"].startswith("MasterTrade daily report, ")
        assert "(sim-live, simulated prices, paper mode" in message["message"]
        assert "Equity " in message["message"] and "Drawdown " in message["message"]  # the account's figures


def test_the_status_snapshot_of_a_stopped_daemon_leaves_no_empty_json_file(mt: MT, tmp_path: Path) -> None:
    target = tmp_path / "my cron jobs"  # a space in the folder: the written lines quote it
    mt.json("examples", "crontab", "--write", str(target), "--mt", MT_COMMAND)
    variables, (_, _, snapshot) = crontab(target / "crontab")
    fake_home = tmp_path / "cron-home"
    fake_home.mkdir()
    assert run_like_cron(snapshot, variables, fake_home).returncode != 0  # no daemon runs
    assert list(target.glob("status-*.json")) == []
    assert "mt: error: the daemon is not running" in (target / "cron.log").read_text()


def test_keep_alive_reports_a_daemon_that_does_not_answer_instead_of_passing(mt: MT, tmp_path: Path) -> None:
    from mastertrade.engine.daemon import DaemonLock

    target = tmp_path / "cron"
    mt.json("examples", "crontab", "--write", str(target), "--mt", MT_COMMAND)
    variables, (keep_alive, _, _) = crontab(target / "crontab")
    fake_home = tmp_path / "cron-home"
    fake_home.mkdir()
    lock = DaemonLock(locations().pid_file)  # a daemon holding its pid file that does not answer
    lock.acquire()
    try:
        assert run_like_cron(keep_alive, variables, fake_home).returncode == 4  # `mt daemon status`'s
        assert "daemon started" not in (target / "cron.log").read_text()
    finally:
        lock.release()


def test_write_into_a_file_or_an_impossible_folder_is_one_line(mt: MT, tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine\n")
    for target, reason in (
        (a_file, "it is not a folder"),
        (a_file / "cron", f"{str(a_file)!r} is a file, not a folder"),
    ):
        result = mt("examples", "--write", str(target))
        assert result.exit_code == 2, result.output
        assert result.stderr == f"mt: error: cannot write into '{target}': {reason}\n"
    assert a_file.read_text() == "mine\n"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_systemd_unit_passes_systemd_analyze_verify(
    mt: MT, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MT_HOME", str(tmp_path / "my workspace"))  # Environment= must keep the space
    mt.json("examples", "mastertrade.service", "--write", str(tmp_path), "--mt", MT_COMMAND)
    verified = subprocess.run(  # noqa: S603 - a system tool on our own file
        ["systemd-analyze", "verify", str(tmp_path / "mastertrade.service")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verified.returncode == 0, verified.stderr
    assert verified.stderr == "", verified.stderr  # no warning about an unknown key or a bad value
