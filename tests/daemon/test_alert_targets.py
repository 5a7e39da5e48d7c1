"""Alert targets Apprise cannot build (a known scheme with parts missing) are refused when the daemon
starts, in one line naming the target by its place and masked form, instead of failing every alert
later; valid targets pass. Every command that loads the config refuses, without loading Apprise, the
targets malformed beyond doubt (an unknown scheme, a web-hook or e-mail target without a host, a port
that is no number)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mastertrade.engine.alerts import schemes
from mastertrade.engine.alerts.schemes import APPRISE_SCHEMES
from mastertrade.engine.alerts.targets import check_targets
from mastertrade.errors import ConfigError
from mastertrade.locations import locations
from tests.conftest import MT

VALID = [
    "json://127.0.0.1:9/hook",
    "tgram://123456789:AAHsecretToken_x/-100200300",
    "mailto://bob:pw@example.com",
]


def test_valid_targets_pass() -> None:
    check_targets(VALID)
    check_targets([])


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("mailto://", None),  # no host, no user
        ("mailtos://alice:hunter2@/", "hunter2"),  # a password but no host
        ("tgram://987654/", "987654"),  # no bot token
        ("discord://4242424242", "4242424242"),  # the webhook id without its token
    ],
)
def test_a_malformed_target_is_refused_naming_it_masked(url: str, secret: str | None) -> None:
    with pytest.raises(ConfigError) as refused:
        check_targets([*VALID, url])
    message = str(refused.value)
    scheme = url.partition("://")[0]
    assert message.startswith(f"[alerts] urls: target #4 of 4 ({scheme}://***) is not a valid Apprise URL")
    assert secret is None or secret not in message


def test_daemon_start_and_restart_refuse_it_before_anything_runs(
    mt: MT, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MT_ALERTS__URLS", '["json://127.0.0.1:9/hook", "tgram://987654/"]')
    # Were the target let through, the daemon would fail on this database (exit 1), not on the target.
    monkeypatch.setenv("MT_DB__URL", "postgresql+asyncpg://nobody@127.0.0.1:9/none")
    for command in (["daemon", "start"], ["daemon", "restart"], ["daemon", "start", "--foreground"]):
        result = mt(*command)
        assert result.exit_code == 2, (command, result.output)
        assert result.stderr == (
            "mt: error: [alerts] urls: target #2 of 2 (tgram://***) is not a valid Apprise URL: its scheme"
            " is unknown here or parts it needs are missing (a tgram:// needs bot-token/chat-id, a mailto://"
            " a user and host; see the Apprise docs)\n"
        )
        assert not locations().pid_file.exists() and not locations().log_file.exists()


def test_config_show_refuses_it_as_the_daemon_would(mt: MT, monkeypatch: pytest.MonkeyPatch) -> None:
    """`mt config show` is how a trader checks an edited config: it said nothing of a `tgram://` without
    its bot token, which `mt daemon start` then refused."""
    monkeypatch.setenv("MT_ALERTS__URLS", '["json://127.0.0.1:9/hook", "tgram://987654/"]')
    refused = mt("daemon", "start")
    for command in (["config", "show"], ["config", "show", "--json"]):
        result = mt(*command)
        assert result.exit_code == 2 and result.stdout == "", (command, result.output)
        assert result.stderr == refused.stderr and "987654" not in result.stderr
    monkeypatch.setenv("MT_ALERTS__URLS", json.dumps(VALID))
    assert mt("config", "show").exit_code == 0


# --- the cheap check every command makes when it loads the config (no Apprise) --------------------


@pytest.mark.parametrize(
    ("url", "shown", "reason"),
    [
        ("mailto://", "mailto://***", "it names no host (the form is mailto://user:password@host)"),
        ("mailtos://alice:hunter2@/", "mailtos://***", "it names no host"),
        ("json://user:hunter2@/hook", "json://***@/***", "it names no host (the form is json://host/path)"),
        ("json://127.0.0.1:80a/hook-hunter2", "json://***", "it does not parse as a URL"),
        ("xml://127.0.0.1:99999/hook-hunter2", "xml://***", "it does not parse as a URL"),
        ("json://[::1/hook-hunter2", "json://***", "it does not parse as a URL"),
        (
            "jsno://127.0.0.1/hook-hunter2",
            "jsno://***",
            "its scheme jsno:// is not one of Apprise's (did you mean json://?)",
        ),
        (
            "telegram://1234:hunter2/-100",
            "telegram://***",
            "its scheme telegram:// is not one of Apprise's (did you mean tgram://?)",
        ),
    ],
)
def test_every_command_refuses_a_target_malformed_beyond_doubt(
    mt: MT, monkeypatch: pytest.MonkeyPatch, url: str, shown: str, reason: str
) -> None:
    monkeypatch.setenv("MT_ALERTS__URLS", json.dumps(["json://127.0.0.1:9/hook", url]))
    result = mt("config", "show")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(
        "mt: error: environment variable MT_ALERTS__URLS: Value error, alert URL #2 of 2"
        f" ({shown}) is not an Apprise URL: {reason}"
    )
    assert result.stderr.count("\n") == 1 and "hunter2" not in result.output


@pytest.mark.parametrize(
    "url",
    [
        "JSON://127.0.0.1:8000/hook",
        "json://[::1]:8000/hook",
        "mailtos://gmail.com?user=a&pass=b",
        "https://discord.com/api/webhooks/123/abc",  # a service's own address: Apprise's to judge
        "windows://",  # needs nothing after ://
        "tgram://987654/",  # a known scheme missing its bot token: only Apprise knows (at daemon start)
    ],
)
def test_the_cheap_check_lets_through_what_only_apprise_can_judge(
    mt: MT, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("MT_ALERTS__URLS", json.dumps([url]))
    assert mt("config", "path").exit_code == 0  # loads the config; `mt config show` asks Apprise too


def test_loading_the_config_does_not_load_apprise() -> None:
    code = (
        "import sys; from mastertrade.config import load_settings;"
        " settings = load_settings(); assert len(settings.alerts.urls) == 3, settings.alerts.urls;"
        " assert 'apprise' not in sys.modules, 'apprise was imported'"
    )
    urls = '["tgram://123:AAH/-1", "mailtos://a:b@example.com", "https://hooks.slack.com/services/A/B/C"]'
    env = {**os.environ, "MT_ALERTS__URLS": urls}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def test_the_scheme_list_is_the_installed_apprises() -> None:
    from apprise.manager_plugins import NotificationManager

    installed = set(NotificationManager().schemas())
    assert set(APPRISE_SCHEMES) == installed, (
        "Apprise's schemes changed: update engine/alerts/schemes.py APPRISE_SCHEMES"
        f" (new: {sorted(installed - APPRISE_SCHEMES)}, gone: {sorted(APPRISE_SCHEMES - installed)})"
    )


def test_a_scheme_missing_from_the_list_is_put_to_apprise_before_it_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A newer Apprise than the list was made from may know more schemes.
    monkeypatch.setattr(schemes, "APPRISE_SCHEMES", APPRISE_SCHEMES - {"tgram"})
    assert schemes.shape_problem("tgram://123456789:AAHsecretToken_x/-100200300") is None
    assert schemes.shape_problem("tgrm://123456789:AAHsecretToken_x/-100200300") == (
        "its scheme tgrm:// is not one of Apprise's"
    )
