"""`mt strategy show ID` of a strategy the trader added shows the backtest attached to it. It showed four
rows of a search that never ran ("search window (full)" ... "hold-out (never searched)"), every figure
n/a, and never the report `mt strategy add` had attached; `mt strategy export` printed no command to
reproduce that backtest."""

from __future__ import annotations

from typing import Any

from tests.conftest import MT


def test_show_prints_the_attached_backtest_of_an_added_strategy(mt: MT) -> None:
    result = mt("data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", "600", "--seed", "3")
    assert result.exit_code == 0, result.stderr
    added: dict[str, Any] = mt.json(
        "strategy", "add", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h"
    )
    report = added["report"]

    shown = mt("strategy", "show", added["id"])
    assert shown.exit_code == 0, shown.stderr
    [row] = [line for line in shown.stdout.splitlines() if "backtest, whole series" in line]
    assert f"{report['start']} .. {report['end']}" in row
    assert f"{report['return_pct']:,.2f}" in row and f" {report['trades']} " in row
    assert "search window" not in shown.stdout and "search: in-sample" not in shown.stdout
    assert "no search and no hold-out" in shown.stdout

    exported = mt("strategy", "export", added["id"])
    assert exported.exit_code == 0, exported.stderr
    assert f"its stored backtest: mt backtest FILE --start {report['start']}" in exported.stderr
