"""A negative number is a value on every command: parsed as the parameter's value (never taken for an
option), then validated, and refused with one line ``mt: error: ...`` naming it, exit 2.

The test walks the whole command tree, so a numeric parameter added later is covered without a change
here (a command that needs other arguments to reach its validation gets them from ``BASE``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from mastertrade.cli.app import app

BASE = {
    "optimize": ["sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h"],
    "validate": ["sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h"],
    "data check": ["BTC/USDT", "--timeframe", "1h"],
    "data sim": ["BTC/USDT"],
    "alerts add": ["price_cross", "--symbol", "BTC/USDT"],
    "rl train": ["--symbol", "BTC/USDT", "--timeframe", "1h"],
    "ml train": ["lightgbm", "--symbol", "BTC/USDT", "--timeframe", "1h"],
    "ml evaluate": ["lightgbm", "--symbol", "BTC/USDT", "--timeframe", "1h"],
    "ml predict": ["lightgbm", "--symbol", "BTC/USDT", "--timeframe", "1h"],
    "trade buy": ["BTC/USDT", "1", "--type", "limit", "--price", "100"],
    "trade sell": ["BTC/USDT", "1", "--type", "limit", "--price", "100"],
}
"""Arguments that let a command reach the validation of the parameter under test."""


def _leaves(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _leaves(sub, (*path, name))
    else:
        yield path, command


def _numeric_parameters() -> list[Any]:
    cases = []
    for path, command in _leaves(typer.main.get_command(app)):
        for param in command.params:
            if param.type_descriptor.annotation not in (int, float):
                continue
            args = list(path) + BASE.get(" ".join(path), [])
            if param.param_type_name == "argument":
                if " ".join(path) in ("trade buy", "trade sell"):
                    args[len(path) + 1] = "-1"
                else:
                    args.append("-1")
            else:
                args += [param.opts[0], "-1"]
            cases.append(pytest.param(args, id=" ".join([*path, param.opts[0]])))
    return cases


CASES = _numeric_parameters()


def test_the_walk_finds_the_numeric_parameters() -> None:
    ids = {case.id for case in CASES}
    assert len(CASES) >= 40
    assert {"goal remove goal_id", "trade buy amount", "daemon logs --lines"} <= ids


@pytest.mark.parametrize("args", CASES)
def test_a_negative_number_is_a_value_and_is_refused_naming_it(args: list[str]) -> None:
    result = CliRunner().invoke(app, args, prog_name="mt")
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, (args, result.stderr, result.stdout)
    assert len(lines) == 1 and lines[0].startswith("mt: error:"), lines
    assert "No such option" not in lines[0]
    assert "-1" in lines[0], lines[0]  # the refused value is named
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["goal", "add", "x", "--kind", "return", "--target", "-5"],
        ["goal", "add", "x", "--kind", "value", "--target", "-1e308"],
        ["alerts", "add", "pct_move", "--symbol", "BTC/USDT", "--pct", "-2.5"],
    ],
)
def test_negative_numbers_in_text_options_are_refused_naming_them(args: list[str]) -> None:
    result = CliRunner().invoke(app, args, prog_name="mt")
    [line] = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and line.startswith("mt: error:") and args[-1].lstrip("-")[:3] in line


def test_an_unknown_option_after_a_numeric_argument_is_still_one_line() -> None:
    result = CliRunner().invoke(app, ["goal", "remove", "--bogus"], prog_name="mt")
    [line] = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and line.startswith("mt: error:") and "--bogus" in line


@pytest.mark.parametrize("order", ["-1", "0", "-00"])
def test_an_order_id_below_one_is_refused_naming_it(order: str) -> None:
    # `mt orders show` takes an id or a client order id (text): "-1" was "No such option: -1", and
    # "0" reached the daemon and came back as a message about its URL's path parameter.
    result = CliRunner().invoke(app, ["orders", "show", order], prog_name="mt")
    [line] = result.stderr.strip().splitlines()
    assert (
        result.exit_code == 2
        and line == f"mt: error: invalid order id {order}: order ids start at 1 (see `mt orders`)"
    )
