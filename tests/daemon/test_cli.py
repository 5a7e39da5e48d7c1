"""The CLI against a daemon (running in a background thread) and without one: `mt status`,
`mt daemon status|logs`, `mt alerts list|add|remove|test|history`, and masked secrets."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mastertrade.config import Settings
from mastertrade.locations import locations
from tests.conftest import MT
from tests.daemon.conftest import ThreadedDaemon, configure
from tests.daemon.fakes import Receiver

NOT_RUNNING = "mt: error: the daemon is not running: start it with `mt daemon start`\n"


@pytest.fixture
def settings(sqlite_settings: Settings) -> Settings:
    return sqlite_settings


@pytest.mark.parametrize(
    "command", [["status"], ["alerts", "list"], ["alerts", "history"], ["alerts", "test"]]
)
def test_commands_that_need_the_daemon_say_so(mt: MT, command: list[str]) -> None:
    result = mt(*command)
    assert result.exit_code == 1
    assert result.stderr == NOT_RUNNING
    assert result.stdout == ""


def test_daemon_status_works_without_a_daemon(mt: MT) -> None:
    as_json = mt("daemon", "status", "--json")
    assert as_json.exit_code == 3  # LSB "not running", as `systemctl status`: scripts can tell
    status = json.loads(as_json.stdout)
    assert status["running"] is False and status["pid"] is None
    assert status["socket"] == str(locations().socket_file)
    result = mt("daemon", "status")
    assert result.exit_code == 3 and "not running" in result.stderr
    stopped = mt.json("daemon", "stop")
    assert stopped == {"stopped": False, "pid": None}


def test_daemon_status_of_a_daemon_that_does_not_answer_exits_4(mt: MT) -> None:
    from mastertrade.engine.daemon import DaemonLock

    lock = DaemonLock(locations().pid_file)  # a daemon holding its pid file, its socket not (yet) up
    lock.acquire()
    try:
        result = mt("daemon", "status")
        assert result.exit_code == 4, result.output
        assert f"the daemon runs (pid {os.getpid()}) but does not answer" in result.stderr
        as_json = mt("daemon", "status", "--json")
        assert as_json.exit_code == 4 and json.loads(as_json.stdout)["running"] is True
    finally:
        lock.release()


def test_start_of_a_running_daemon_succeeds_saying_so(mt: MT, threaded_daemon: ThreadedDaemon) -> None:
    """LSB "start" of a running service: exit 0 and one line naming it (the keep-alive script, systemd
    and cron wrappers rely on it); nothing else is started."""
    from mastertrade.engine.daemon import DaemonLock

    where = locations()
    lock = DaemonLock(where.pid_file)  # the threaded daemon, as a process would, holds the pid file
    lock.acquire()
    try:
        result = mt("daemon", "start")
        assert result.exit_code == 0, result.output
        assert result.stderr == (
            f"the daemon is already running (pid {os.getpid()}), listening on {where.socket_file}\n"
        )
        assert result.stdout == ""
        assert mt.json("daemon", "start") == {
            "running": True,
            "already_running": True,
            "pid": os.getpid(),
            "socket": str(where.socket_file),
            "log_file": str(where.log_file),
            "mode": "paper",
        }
        assert not (where.log_dir / "daemon.stderr").exists()  # no second daemon was spawned
    finally:
        lock.release()


def test_start_of_a_daemon_that_does_not_answer_yet_succeeds(mt: MT) -> None:
    from mastertrade.engine.daemon import DaemonLock

    where = locations()
    lock = DaemonLock(where.pid_file)  # a daemon starting: pid file held, socket not up yet
    lock.acquire()
    try:
        result = mt("daemon", "start")
        assert result.exit_code == 0, result.output
        assert result.stderr == (
            f"the daemon is already running (pid {os.getpid()}), listening on {where.socket_file}"
            " (not answering yet: see `mt daemon status`)\n"
        )
    finally:
        lock.release()


def test_start_that_loses_the_race_to_another_start_succeeds(mt: MT, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two starts at once (cron's keep-alive and a shell): the one whose daemon finds the pid file taken
    reports the winner, exit 0, rather than "the daemon exited during start-up"."""
    from mastertrade.engine import daemon

    where = locations()
    lock = daemon.DaemonLock(where.pid_file)
    lock.acquire()  # the other start's daemon, which took the pid file after this start looked
    monkeypatch.setattr(daemon, "settled_pid", lambda where=None, **_: None)
    try:
        result = mt("daemon", "start")
        assert result.exit_code == 0, result.output
        assert result.stderr.startswith(f"the daemon is already running (pid {os.getpid()})")
        assert "already running" in (where.log_dir / "daemon.stderr").read_text()  # the loser's own word
        assert stat.S_IMODE((where.log_dir / "daemon.stderr").stat().st_mode) == 0o600  # was 0644
    finally:
        lock.release()


def test_start_live_of_a_running_paper_daemon_is_refused(
    mt: MT, threaded_daemon: ThreadedDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--live`` asked for what the running daemon does not do: not a success, and nothing changes."""
    from mastertrade.engine.daemon import DaemonLock

    for name, value in {
        "MT_MODE": "live",
        "MT_MARKET__VENUE": "ccxt",
        "MT_EXCHANGE__API_KEY": "k",
        "MT_EXCHANGE__SECRET": "s",
    }.items():
        monkeypatch.setenv(name, value)
    lock = DaemonLock(locations().pid_file)
    lock.acquire()
    try:
        result = mt("daemon", "start", "--live")
        assert result.exit_code == 1, result.output
        assert result.stderr == (
            f"mt: error: the daemon is already running (pid {os.getpid()}) in paper mode, not live: "
            "`mt daemon restart --live` restarts it trading live\n"
        )
    finally:
        lock.release()


def test_status_shows_services_venue_symbols_and_jobs(mt: MT, threaded_daemon: ThreadedDaemon) -> None:
    status = mt.json("status")
    assert status["venue"]["id"] == "fake" and status["mode"] == "paper"
    assert {s["name"] for s in status["services"]} == {"api", "alerts", "market-feed", "scheduler"}
    assert [s["symbol"] for s in status["symbols"]] == ["BTC/USDT", "ETH/USDT"]
    result = mt("status")
    assert result.exit_code == 0
    assert "venue: fake (sim, simulated prices), 1h" in result.stdout  # the headline is data: stdout
    assert "mode paper" in result.stdout and result.stderr == ""
    assert "market-feed" in result.stdout and "data_refresh" in result.stdout
    # simulated prices: schedules run on market time, run records on the wall clock; the table says which
    assert "next run (market time)" in result.stdout and "last run (wall clock)" in result.stdout
    unlocked = mt("daemon", "status", "--json")
    assert unlocked.exit_code == 3  # a thread holds no pid file: the socket answers all the same
    daemon = json.loads(unlocked.stdout)
    assert daemon["running"] is False
    assert daemon["pid"] is None


def test_alert_rules_from_the_command_line(mt: MT, threaded_daemon: ThreadedDaemon) -> None:
    rule = mt.json(
        "alerts", "add", "price-cross", "--symbol", "BTC/USDT", "--level", "70000", "--direction", "above"
    )
    assert rule["id"] == 1 and rule["kind"] == "price_cross" and rule["params"]["level"] == 70000.0
    listed = mt.json("alerts", "list")
    assert [r["name"] for r in listed["rules"] if not r["builtin"]] == ["BTC/USDT crosses above 70000"]
    assert "history" not in listed
    table = mt("alerts", "list")
    assert "BTC/USDT crosses above 70000" in table.stdout and "targets: none" in table.stderr
    bad = mt("alerts", "add", "price_cross", "--symbol", "BTC/USDT", "--level", "-3")
    assert bad.exit_code == 2 and bad.stderr == "mt: error: invalid --level -3.0: must be a number above 0\n"
    for option, value, allowed in (
        ("--direction", "sideways", "above, below or any"),
        ("--severity", "loud", "info, warning or critical"),
    ):  # the option is named, not the API body's field
        wrong = mt("alerts", "add", "price_cross", "--symbol", "BTC/USDT", "--level", "5", option, value)
        assert (
            wrong.exit_code == 2
            and wrong.stderr == f"mt: error: invalid {option} '{value}': must be {allowed}\n"
        )
    # a symbol in any case is the market it names, as in every other command (it was "unknown symbol")
    lower = mt.json("alerts", "add", "pct_move", "--symbol", "eth/usdt", "--pct", "5")
    assert lower["params"]["symbol"] == "ETH/USDT" and lower["name"] == "ETH/USDT moves 5% in 1h"
    assert mt.json("alerts", "remove", str(lower["id"])) == {"removed": lower["id"]}
    # a fill's symbol is compared as stored: a rule narrowed to "btc/usdt" was kept and never matched
    fills = mt.json("alerts", "add", "order_filled", "--symbol", "btc/usdt", "--severity", "critical")
    assert fills["params"] == {"symbol": "BTC/USDT"}
    assert mt.json("alerts", "remove", str(fills["id"])) == {"removed": fills["id"]}
    shapeless = mt("alerts", "add", "pct_move", "--symbol", "ETHUSDT", "--pct", "5")
    assert shapeless.exit_code == 2
    assert shapeless.stderr == "mt: error: invalid --symbol 'ETHUSDT': expected BASE/QUOTE, like BTC/USDT\n"
    nowhere = mt("alerts", "add", "service_failure", "--service", "nosuch")  # would never fire
    assert nowhere.exit_code == 2 and "unknown service 'nosuch': this daemon runs" in nowhere.stderr
    assert "market-feed" in nowhere.stderr
    unknown = mt("alerts", "add", "moon_landing")
    assert unknown.exit_code == 2 and "unknown alert rule kind 'moon_landing'" in unknown.stderr
    # a symbol the daemon does not stream would never fire: refused, not stored
    for kind in (
        ["price_cross", "--level", "1"],
        ["pct_move", "--pct", "5"],
        ["--when", '{">": [{"price": "close"}, 1]}'],
    ):
        never = mt("alerts", "add", *kind, "--symbol", "DOGE/USDT")
        assert never.exit_code == 2, never.output
        assert never.stderr == (
            "mt: error: unknown symbol 'DOGE/USDT': the daemon streams BTC/USDT, ETH/USDT "
            "([market] symbols)\n"
        )
    assert [r["id"] for r in mt.json("alerts", "list")["rules"] if not r["builtin"]] == [1]
    assert mt.json("alerts", "remove", "1") == {"removed": 1}
    missing = mt("alerts", "remove", "1")
    assert missing.exit_code == 2 and "no alert rule 1" in missing.stderr
    no_targets = mt("alerts", "test")
    assert no_targets.exit_code == 2 and "no alert targets" in no_targets.stderr
    assert mt.json("alerts", "history") == []


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def test_alerts_test_delivers_and_history_shows_it(mt: MT, receiver: Receiver, settings: Settings) -> None:
    daemon = ThreadedDaemon(
        configure(alerts={"urls": [receiver.url("secret-path-123")]}), apprise=True
    ).start()
    try:
        sent = mt.json("alerts", "test", "--message", "hello from the tests")
        assert sent["status"] == "delivered" and sent["targets"][0]["ok"] is True
        shown = rf"json://127\.0\.0\.1:{receiver.port}/\*\*\* #[0-9a-f]{{10}}"  # masked, with its identity
        assert re.fullmatch(shown, sent["targets"][0]["target"])
        assert receiver.received[0]["message"] == "hello from the tests"
        history = mt.json("alerts", "history")
        assert history[0]["title"] == "MasterTrade test alert" and history[0]["status"] == "delivered"
        listed = mt("alerts", "list", "--json")
        assert "secret-path-123" not in listed.stdout
        receiver.statuses = [500]
        failed = mt("alerts", "test")
        assert failed.exit_code == 1 and "did not reach every target" in failed.stderr
        assert "secret-path-123" not in failed.stderr + failed.stdout
    finally:
        daemon.stop()


def test_alerts_history_says_how_many_targets_an_alert_reached(mt: MT, receiver: Receiver) -> None:
    # one target took it, the other refused the connection: the history said "failed" and nothing more
    daemon = ThreadedDaemon(
        configure(alerts={"urls": [receiver.url("hook"), "json://127.0.0.1:9/closed"]}), apprise=True
    ).start()
    try:
        assert mt("alerts", "test").exit_code == 1
        [alert] = mt.json("alerts", "history")
        assert alert["status"] == "failed" and [t["ok"] for t in alert["targets"]] == [True, False]
        table = mt("alerts", "history").stdout
        assert "reached" in table
        [row] = [line for line in table.splitlines() if "MasterTrade test alert" in line]
        assert "failed" in row and "1 of 2" in row
    finally:
        daemon.stop()


def test_a_test_message_too_long_for_the_daemon_is_refused_naming_the_option(mt: MT) -> None:
    # The daemon's own refusal named its request body's field ("body field 'message'").
    result = mt("alerts", "test", "--message", "x" * 2001)
    assert result.exit_code == 2
    assert result.stderr == "mt: error: invalid --message: 2001 characters, at most 2000\n"


def test_config_show_masks_apprise_urls_and_tells_targets_apart(
    mt: MT, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mastertrade.engine.alerts.identity import key_file, load_key, target_label

    urls = [
        "tgram://123456789:AAHsecretbottoken/555",
        "tgram://987654321:AAHothersecret/777",
        "json://10.1.2.3/hook",
    ]
    monkeypatch.setenv("MT_ALERTS__URLS", json.dumps(urls))
    shown = mt.json("config", "show")["alerts"]["urls"]
    # two Telegram bots showed alike (tgram://***): each now has its identity, and no secret shows
    assert [label.split(" #")[0] for label in shown] == ["tgram://***", "tgram://***", "json://10.1.2.3/***"]
    assert len(set(shown)) == 3
    # the identity the daemon gives each target in `mt alerts list` and in every delivery record
    key = load_key()
    assert key_file().stat().st_mode & 0o777 == 0o600
    assert shown == [target_label(url, key) for url in urls]
    text = mt("config", "show").stdout
    assert "AAHsecretbottoken" not in text and "AAHothersecret" not in text
    for label in shown:
        assert label in text
    # the same target keeps its identity from one run to the next, wherever it stands in the list
    monkeypatch.setenv("MT_ALERTS__URLS", json.dumps(urls[::-1]))
    assert mt.json("config", "show")["alerts"]["urls"] == shown[::-1]


def write_log(lines: list[str]) -> Path:
    path = locations().log_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_daemon_logs_prints_the_newest_records(mt: MT) -> None:
    write_log(
        [
            "2026-01-01T00:00:00.000Z INFO mastertrade.engine.daemon: daemon 0.1.0 started",
            "2026-01-01T00:00:01.500Z ERROR mastertrade.engine.services.supervisor: service x crashed",
            "Traceback (most recent call last):",
            '  File "x.py", line 1, in <module>',
            "RuntimeError: boom",
            "2026-01-01T00:00:02.000Z INFO mastertrade.engine.daemon: stopping: SIGTERM received",
        ]
    )
    records: list[dict[str, Any]] = mt.json("daemon", "logs", "-n", "2")
    assert [r["level"] for r in records] == ["ERROR", "INFO"]
    assert (
        records[0]["message"].endswith("RuntimeError: boom")
        and records[0]["time"] == "2026-01-01T00:00:01.500Z"
    )
    plain = mt("daemon", "logs", "-n", "1")
    assert (
        plain.stdout
        == "2026-01-01T00:00:02.000Z INFO mastertrade.engine.daemon: stopping: SIGTERM received\n"
    )


def test_daemon_logs_without_a_log(mt: MT) -> None:
    result = mt("daemon", "logs")
    assert result.exit_code == 0 and "no daemon log yet" in result.stderr


def test_live_needs_both_switches_before_anything_starts(mt: MT, monkeypatch: pytest.MonkeyPatch) -> None:
    result = mt("daemon", "start", "--live")
    assert result.exit_code == 2 and 'the config says mode = "paper"' in result.stderr
    assert not locations().pid_file.exists() and not locations().log_file.exists()
    monkeypatch.setenv("MT_MODE", "live")  # the other switch alone: refused too, not a daemon that idles
    for command in (("daemon", "start"), ("daemon", "start", "--foreground"), ("daemon", "restart")):
        result = mt(*command)
        assert result.exit_code == 2, command
        assert 'the config says mode = "live" but --live was not given' in result.stderr
        assert not locations().pid_file.exists() and not locations().log_file.exists()


def test_stop_works_when_the_config_no_longer_loads(mt: MT, monkeypatch: pytest.MonkeyPatch) -> None:
    """A config edited into an error while the daemon runs made `mt daemon stop` fail before it asked the
    daemon to stop: it now warns and stops it, waiting the default deadline."""
    from mastertrade.engine import daemon

    waited: list[float] = []

    def stop(*, timeout_s: float) -> int:
        waited.append(timeout_s)
        return 4242

    monkeypatch.setattr(daemon, "stop", stop)
    monkeypatch.setenv("MT_DAEMON__STOP_TIMEOUT_S", "soon")
    result = mt("daemon", "stop")
    assert result.exit_code == 0, result.output
    assert waited == [30.0]
    assert "mt: warning:" in result.stderr and "MT_DAEMON__STOP_TIMEOUT_S" in result.stderr
    assert result.stderr.endswith(
        "stopping the daemon anyway (waiting up to 30 s)\ndaemon stopped (pid 4242)\n"
    )
