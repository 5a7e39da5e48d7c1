"""Alert targets Apprise cannot build (a known scheme with parts missing) are refused when the daemon
starts, in one line naming the target by its place and masked form, instead of failing every alert
later; valid targets pass."""

from __future__ import annotations

import pytest

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
