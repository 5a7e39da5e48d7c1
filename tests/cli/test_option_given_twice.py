"""An option that takes one value is refused when given twice, naming both values, before the command
runs: click kept the last one silently, so `mt trade buy BTC/USDT 1 --type limit --price 100 --price
1000` asked for a limit buy at 1000, and `mt data delete ... --since A --since=B` deleted from B. Options
that take several values (`--state`, `--param`) and flags may repeat; a value that looks like an option
(`--name --symbol`) is a value."""

from __future__ import annotations

import pytest

from tests.conftest import MT


@pytest.mark.parametrize(
    ("args", "refused"),
    [
        (
            ["trade", "buy", "BTC/USDT", "1", "--type", "limit", "--price", "100", "--price", "1000"],
            "--price given twice ('100' and '1000')",
        ),
        (
            ["data", "delete", "BTC/USDT", "--timeframe", "1h", "--since", "2026-01-01", "--since=2025-1-1"],
            "--since given twice ('2026-01-01' and '2025-1-1')",
        ),
        (["backtest", "sma_cross", "--symbol", "BTC/USDT", "--symbol", "ETH/USDT"], "--symbol given twice"),
    ],
)
def test_an_option_given_twice_is_refused_naming_both_values(mt: MT, args: list[str], refused: str) -> None:
    sim = mt("data", "sim", "BTC/USDT", "--bars", "100")
    assert sim.exit_code == 0, sim.stderr
    result = mt(*args, "--yes") if args[0] == "data" else mt(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"mt: error: {refused}") and result.stderr.endswith(": give it once\n")
    assert mt.json("data", "list")[0]["rows"] == 100  # nothing deleted


def test_options_of_several_values_flags_and_option_like_values_still_parse(mt: MT) -> None:
    assert mt.json("strategy", "list", "--state", "paper", "--state", "active") == []
    result = mt("alerts", "add", "price_cross", "--symbol", "BTC/USDT", "--name", "--level", "--level", "5")
    assert "given twice" not in result.stderr
