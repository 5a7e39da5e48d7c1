"""An alert rule's `--level` is at most the largest price an order takes (1e12) and a `--pct` move at
most 1e6 percent: `mt alerts add price_cross --symbol BTC/USDT --level 1e30` was stored as a rule that
can never fire. Refused naming the value, by the CLI and the daemon alike (`alerts.rules.build_rule`)."""

from __future__ import annotations

import pytest

from tests.conftest import MT


@pytest.mark.parametrize(
    ("args", "refused"),
    [
        (["price_cross", "--level", "1e30"], "invalid --level 1e+30: larger than 1e+12"),
        (["price_cross", "--level", str(10**30)], "invalid --level 1e+30: larger than 1e+12"),
        (["pct_move", "--pct", "1e7"], "invalid --pct 10000000.0: larger than 1e+06"),
    ],
)
def test_a_level_or_move_past_the_bound_is_refused(mt: MT, args: list[str], refused: str) -> None:
    result = mt("alerts", "add", *args, "--symbol", "BTC/USDT")
    assert result.exit_code == 2
    assert result.stderr == f"mt: error: {refused}\n"


def test_the_bounds_hold_for_the_daemon_s_rules_too() -> None:
    from mastertrade.engine.alerts.rules import build_rule
    from mastertrade.errors import UserInputError

    with pytest.raises(UserInputError, match="invalid --level 1e\\+30: larger than 1e\\+12"):
        build_rule("price_cross", {"symbol": "BTC/USDT", "level": 1e30})
    assert build_rule("price_cross", {"symbol": "BTC/USDT", "level": 1e12}).params()["level"] == 1e12
