"""A move's --reason is checked the same way with or without the daemon. Through the daemon a reason over
500 characters was refused as "body field 'reason'"; without it, it was stored whatever its length, and
a reason with a newline or an escape sequence was stored either way (it broke `mt strategy show`'s
history table and wrote to the terminal)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import MT


@pytest.fixture
def passed(mt: MT) -> str:
    result = mt("data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", "300", "--seed", "3")
    assert result.exit_code == 0, result.stderr
    added: dict[str, Any] = mt.json(
        "strategy", "add", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h"
    )
    return str(added["id"])


@pytest.mark.parametrize(
    ("reason", "said"),
    [
        ("r" * 501, "at most 500 characters (got 501)"),
        ("two\nlines", "no tab, newline or other control character"),
        ("red\x1b[31m", "no tab, newline or other control character"),
    ],
)
def test_a_bad_reason_is_refused_without_the_daemon(mt: MT, passed: str, reason: str, said: str) -> None:
    result = mt("strategy", "paper", passed, "--reason", reason)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("mt: error: invalid --reason ") and result.stderr.count("\n") == 1
    assert said in result.stderr
    assert mt.json("strategy", "show", passed)["state"] == "passed"  # nothing moved


def test_a_plain_reason_of_the_longest_length_is_recorded(mt: MT, passed: str) -> None:
    reason = "für den Test, " + "x" * 486
    assert len(reason) == 500
    moved = mt.json("strategy", "paper", passed, "--reason", reason)
    assert moved["to"] == "paper" and moved["reason"] == reason


def test_the_api_refuses_a_control_character() -> None:
    from pydantic import ValidationError

    from mastertrade.engine.api.schemas_strategies import TransitionRequest

    assert TransitionRequest(reason="by hand, ok").reason == "by hand, ok"
    for reason in ("two\nlines", "\x1b[31m", "r" * 501):
        with pytest.raises(ValidationError):
            TransitionRequest(reason=reason)
