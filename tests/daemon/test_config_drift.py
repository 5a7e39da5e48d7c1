"""`mt status` (and `mt alerts test`) say when the config files changed since the daemon read them: the
daemon reads them once, at its start, and a trader who edited a risk limit would otherwise see nothing to
say it still runs with the old one. The environment is not compared (cron's differs from a shell's)."""

from __future__ import annotations

import pytest

from mastertrade.config import Settings
from mastertrade.locations import locations
from tests.conftest import MT
from tests.daemon.conftest import ThreadedDaemon

WARNING = "changed since the daemon started"


@pytest.fixture
def settings(sqlite_settings: Settings) -> Settings:
    return sqlite_settings  # the database is incidental here


def test_status_is_quiet_while_the_files_are_what_the_daemon_read(
    mt: MT, threaded_daemon: ThreadedDaemon
) -> None:
    result = mt("status")
    assert result.exit_code == 0, result.output
    assert WARNING not in result.stderr
    assert mt.json("status")["config_files_changed"] is False


def test_status_warns_once_the_files_changed_and_a_restart_would_apply_them(
    mt: MT, threaded_daemon: ThreadedDaemon
) -> None:
    config = locations().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("# only a comment: nothing changed\n")
    assert WARNING not in mt("status").stderr
    config.write_text("[risk]\nmax_position = 0.1\n")
    result = mt("status")
    assert result.exit_code == 0, result.output
    assert f"mt: warning: {config} or {locations().secrets_file} {WARNING}" in result.stderr
    assert "`mt daemon restart` applies the change" in result.stderr
    assert mt.json("status")["config_files_changed"] is True


def test_status_says_when_the_files_no_longer_load(mt: MT, threaded_daemon: ThreadedDaemon) -> None:
    config = locations().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[risk]\nmax_position = 'lots'\n")
    result = mt("status")
    assert result.exit_code == 0, result.output
    assert "mt: warning: the config no longer loads (" in result.stderr
    assert "max_position" in result.stderr and "still runs with the settings it read" in result.stderr
    assert mt.json("status")["config_files_changed"] is None


def test_a_test_alert_says_it_went_to_the_targets_the_daemon_started_with(
    mt: MT, threaded_daemon: ThreadedDaemon
) -> None:
    config = locations().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[alerts]\nurls = ["json://127.0.0.1:9/new-target"]\n')
    result = mt("alerts", "test")
    assert WARNING in result.stderr, result.output
