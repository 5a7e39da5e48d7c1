"""CLI polish: shell completion for bash, zsh and fish, help without fake metavars, placeholders that
survive the help's markdown, and a live start that cannot trade refused with its reason (exit 2) instead
of "daemon started"."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from mastertrade.cli.app import app
from mastertrade.locations import locations
from tests.conftest import MT


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), prog_name="mt", env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o default -F _mt_completion mt"),
        ("zsh", "#compdef mt"),
        ("fish", "complete --command mt"),
    ],
)
def test_completion_prints_a_script_for_each_shell(shell: str, marker: str) -> None:
    code, out, _ = invoke("completion", shell)
    assert code == 0
    assert marker in out and "_MT_COMPLETE" in out


def test_completion_of_an_unknown_shell_is_bad_usage() -> None:
    code, _, err = invoke("completion", "tcsh")
    assert code == 2 and "tcsh" in err


def test_completion_answers_with_commands_and_subcommands() -> None:
    code, out, _ = invoke(env={"_MT_COMPLETE": "complete_bash", "COMP_WORDS": "mt dae", "COMP_CWORD": "1"})
    assert code == 0 and out.split() == ["daemon"]
    code, out, _ = invoke(
        env={"_MT_COMPLETE": "complete_bash", "COMP_WORDS": "mt daemon st", "COMP_CWORD": "2"}
    )
    assert set(out.split()) == {"start", "stop", "status"}
    code, out, _ = invoke(
        env={
            "_MT_COMPLETE": "complete_fish",
            "_TYPER_COMPLETE_FISH_ACTION": "get-args",
            "_TYPER_COMPLETE_ARGS": "mt da",
        }
    )
    assert {line.split("\t")[0] for line in out.splitlines()} == {"data", "daemon"}


def test_flags_show_no_type_in_help_but_values_do() -> None:
    code, out, _ = invoke("daemon", "start", "--help", env={"COLUMNS": "120"})
    assert code == 0
    assert "--foreground" in out and "--live" in out
    assert "<bool>" not in out
    code, out, _ = invoke("backtest", "--help", env={"COLUMNS": "120"})
    assert "<bool>" not in out
    assert "<float>" in out  # --cash takes a value, and says which kind
    code, out, _ = invoke("--help", env={"COLUMNS": "120"})
    assert "<int>" not in out  # -v is a counter
    assert "--install-completion" in out and "--show-completion" in out


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"MT_MODE": "live"}, "cannot trade live on the 'sim' venue"),
        ({"MT_MODE": "live", "MT_MARKET__VENUE": "replay"}, "cannot trade live on the 'replay' venue"),
        ({}, '--live given but the config says mode = "paper"'),
        (
            {"MT_MODE": "live", "MT_MARKET__VENUE": "ccxt"},
            "cannot trade live on binance without its API key and secret: set MT_EXCHANGE__API_KEY and "
            "MT_EXCHANGE__SECRET",
        ),
        # the one missing is named, not both: the trader who set the key is not sent to set it again
        (
            {"MT_MODE": "live", "MT_MARKET__VENUE": "ccxt", "MT_EXCHANGE__API_KEY": "k"},
            "without its API secret: set MT_EXCHANGE__SECRET (or put it in",
        ),
        (
            {"MT_MODE": "live", "MT_MARKET__VENUE": "ccxt", "MT_EXCHANGE__SECRET": "s"},
            "without its API key: set MT_EXCHANGE__API_KEY (or put it in",
        ),
        (  # an empty value (a unit file's `MT_EXCHANGE__SECRET=`) is as missing as none
            {
                "MT_MODE": "live",
                "MT_MARKET__VENUE": "ccxt",
                "MT_EXCHANGE__API_KEY": "k",
                "MT_EXCHANGE__SECRET": " ",
            },
            "without its API secret: set MT_EXCHANGE__SECRET (or put it in",
        ),
    ],
)
@pytest.mark.parametrize("command", [["daemon", "start", "--live"], ["daemon", "restart", "--live"]])
def test_a_live_start_that_cannot_trade_exits_2_with_the_reason(
    mt: MT, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], reason: str, command: list[str]
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = mt(*command)
    assert result.exit_code == 2
    assert result.stderr.startswith("mt: error: ") and reason in result.stderr
    assert result.stderr.count("\n") == 1
    assert "started" not in result.stdout + result.stderr
    assert not locations().pid_file.exists() and not locations().log_file.exists()  # nothing started


def _helps(command: Any, path: str = "mt") -> list[tuple[str, str]]:
    found = [(path, command.help or "")]
    found += [(f"{path} {param.name}", getattr(param, "help", None) or "") for param in command.params]
    for name, sub in getattr(command, "commands", {}).items():
        found += _helps(sub, f"{path} {name}")
    return found


def test_placeholders_in_help_are_code_spans_so_markdown_keeps_them() -> None:
    # The help is rendered as markdown: a bare "strategy:<id>" lost "<id>" as an HTML tag and read
    # "strategy: (or the id)".
    helps = _helps(typer.main.get_command(app))
    assert len(helps) > 100
    bare = [
        (where, tag)
        for where, text in helps
        for tag in re.findall(r"<[A-Za-z][^<>]*>", re.sub(r"`[^`]*`", "", text))
    ]
    assert bare == []
    code, out, _ = invoke("positions", "--help", env={"COLUMNS": "200"})
    assert code == 0 and "strategy:<id>" in out
