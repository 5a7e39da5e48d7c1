"""A daemon started from a login shell (``XDG_RUNTIME_DIR=/run/user/UID``) was "not running" for cron,
which has no ``XDG_RUNTIME_DIR`` and so looked for the socket and pid file in a folder under the temp dir:
the example crontab's keep-alive tried to start a second daemon every five minutes (refused by the
database lock, exit 1 in cron.log), its daily status snapshot never came, and `mt status` from cron said
"the daemon is not running". The daemon now names its runtime folder in the log folder, and a session
whose own runtime folder has no daemon finds it there."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest

from mastertrade.engine.daemon import DaemonLock
from mastertrade.locations import locations


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user's platform folders (no MT_HOME), with the temp dir, cron's runtime parent, in the test's."""
    for name in ("MT_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    return tmp_path


def test_cron_finds_the_daemon_a_login_shell_started(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mastertrade.locations import daemon_started

    session = home / "run-user"
    session.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(session))
    shell = locations()
    assert shell.runtime_dir == session / "mastertrade"
    lock = DaemonLock(shell.pid_file)  # the daemon the shell started, holding its pid file
    lock.acquire()
    try:
        shell.log_dir.mkdir(parents=True)
        daemon_started(shell)
        pointer = shell.log_dir / "daemon.runtime"
        assert stat.S_IMODE(pointer.stat().st_mode) == 0o600  # private like the log beside it (was 0644)
        pointer.chmod(0o644)  # as an older version left it
        daemon_started(shell)
        assert stat.S_IMODE(pointer.stat().st_mode) == 0o600
        monkeypatch.delenv("XDG_RUNTIME_DIR")  # cron
        cron = locations()
        assert cron.runtime_dir == shell.runtime_dir  # was <tmp>/mastertrade-UID: "not running"
        assert cron.socket_file == shell.socket_file and cron.pid_file == shell.pid_file
    finally:
        lock.release()
    # that daemon stopped: cron's own folder is where the next one runs (a stale name is not followed)
    assert locations().runtime_dir == home / "tmp" / f"mastertrade-{os.getuid()}"


@pytest.mark.xdist_group("daemon-process")
def test_the_crontab_keep_alive_sees_a_daemon_started_from_a_login_shell(tmp_path: Path) -> None:
    """The real thing: a daemon started with a session runtime folder, then `mt daemon status` and
    `mt status` as cron runs them (no XDG_RUNTIME_DIR)."""
    import subprocess
    import sys

    import platformdirs

    mt = str(Path(sys.executable).with_name("mt"))
    session = tmp_path / "run-user"
    session.mkdir(mode=0o700)
    (tmp_path / "tmp").mkdir()
    cron = {k: v for k, v in os.environ.items() if not k.startswith(("MT_", "XDG_"))}
    cron.update(
        HOME=str(tmp_path / "home"),
        TMPDIR=str(tmp_path / "tmp"),  # cron's runtime folder: <tmp>/mastertrade-UID
        XDG_CACHE_HOME=str(Path(platformdirs.user_cache_dir()).parent),  # the compiled kernels
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
        MT_MARKET__VENUE="sim",
        MT_MARKET__SYMBOLS='["BTC/USDT"]',
        MT_COLLECTORS__ENABLED="false",
        MT_SCHEDULER__ENABLED="false",
        MT_DAEMON__STOP_TIMEOUT_S="5",
    )
    shell = {**cron, "XDG_RUNTIME_DIR": str(session)}

    def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([mt, *args], env=env, capture_output=True, text=True, timeout=120)

    started = run(shell, "daemon", "start")
    assert started.returncode == 0, started.stderr
    try:
        status = run(cron, "daemon", "status", "--json")
        assert status.returncode == 0, status.stderr  # was 3: "not running", and keep-alive started another
        assert str(session) in status.stdout
        assert run(cron, "status").returncode == 0
        stopped = run(cron, "daemon", "stop")  # found from cron too
        assert stopped.returncode == 0, stopped.stderr
        assert run(shell, "daemon", "status").returncode == 3  # gone for both
    finally:
        run(shell, "daemon", "stop")  # whatever happened above: no daemon left behind
