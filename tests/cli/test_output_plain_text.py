"""What commands print is the text they were given: a bracketed word (a config section such as "[ml]", a
strategy named "[test]", a reason from the engine) is never swallowed as rich markup."""

from __future__ import annotations

import pytest

from mastertrade.cli.output import info, print_table


def test_table_cells_keep_their_brackets(capsys: pytest.CaptureFixture[str]) -> None:
    print_table(["job", "next run"], [("ml_retrain", "no models in [ml] forecasts"), ("[test]", "[/]")])
    out = capsys.readouterr().out
    assert "no models in [ml] forecasts" in out
    assert "[test]" in out and "[/]" in out


def test_diagnostics_keep_their_brackets_and_take_a_style(capsys: pytest.CaptureFixture[str]) -> None:
    info("searched the newest 2,500 bars ([generator] lookback_bars = 2,500)")
    info("2 finalist(s) failed: the reference engine disagreed", style="bold red")
    err = capsys.readouterr().err
    assert "([generator] lookback_bars = 2,500)" in err
    assert "2 finalist(s) failed: the reference engine disagreed" in err and "[bold" not in err
