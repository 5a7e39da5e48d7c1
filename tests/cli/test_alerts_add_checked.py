"""`mt alerts add` names a bad kind or option (exit 2) before it asks the daemon, so the answer is the
same whether or not the daemon runs; a good rule then needs the daemon."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from mastertrade.cli.app import app


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["price_cross", "--symbol", "BTC/USDT"], "a price_cross rule needs --level"),
        (["price_cross", "--level", "70000"], "a price_cross rule needs --symbol"),
        (["pct_move", "--symbol", "BTC/USDT"], "a pct_move rule needs --pct"),
        (["pct_move", "--pct", "3", "--window", "7q"], "invalid --window '7q'"),
        (["order_filled", "--level", "5"], "an order_filled rule takes no --level (it takes --symbol)"),
        (
            ["circuit_breaker", "--service", "feed"],
            "a circuit_breaker rule takes no --service (it takes none)",
        ),
        (["price-jump"], "unknown alert rule kind 'price_jump'"),
        (["--when", '{"<": [{"feature": "nope"}, 20]}', "--symbol", "BTC/USDT"], "unknown feature 'nope'"),
        (["--when", '{"<": [{"price": "close"}, 20]}'], "a signal rule needs --symbol"),
    ],
)
def test_a_bad_rule_is_named_without_the_daemon(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["alerts", "add", *args], prog_name="mt")
    [line] = result.stderr.strip().splitlines()
    assert result.exit_code == 2, result.stderr
    assert line.startswith("mt: error:") and message in line


def test_a_good_rule_then_needs_the_daemon() -> None:
    result = CliRunner().invoke(
        app, ["alerts", "add", "price_cross", "--symbol", "BTC/USDT", "--level", "70000"], prog_name="mt"
    )
    assert result.exit_code == 1 and "the daemon is not running" in result.stderr


@pytest.mark.parametrize("name", ["two\nlines", "red \x1b[31mname", "tab\there", "   ", "c1\x9bcode"])
def test_a_name_with_a_control_character_is_refused_without_the_daemon(name: str) -> None:
    """It was stored, and `mt alerts list` drew it over two rows or sent the escape to the terminal."""
    result = CliRunner().invoke(
        app,
        ["alerts", "add", "price_cross", "--symbol", "BTC/USDT", "--level", "5", "--name", name],
        prog_name="mt",
    )
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        f"mt: error: invalid name {name!r}: not only spaces, no tab, newline or other control character\n"
    )
