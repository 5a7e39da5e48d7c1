"""Usage errors name the command they belong to, in one line; a group run without a command prints its
help and nothing after it (it used to add `mt: error: mt:  (see ...)`, an error with no message)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize("args", [(), ("config",), ("strategy",)])
def test_a_group_without_a_command_prints_its_help_and_no_empty_error(mt: Any, args: tuple[str, ...]) -> None:
    result = mt(*args)
    assert result.exit_code == 2
    assert "Usage:" in result.stdout + result.stderr
    assert "mt: error" not in result.stderr


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("init", "--db-url"), "mt init: Option '--db-url' requires an argument."),
        (("generate", "--count"), "mt generate: Option '--count' requires an argument."),
        (("nonsense",), "No such command 'nonsense'."),
    ],
)
def test_a_usage_error_names_its_command(mt: Any, args: tuple[str, ...], named: str) -> None:
    result = mt(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"mt: error: {named}") and result.stderr.count("\n") == 1
    assert "mt: error: mt:" not in result.stderr  # the program is named once
