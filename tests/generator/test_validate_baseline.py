"""`mt validate` against buy-and-hold: the verdict says plainly when the strategy made less than holding
the coin (whatever its Sharpe ratio), and does not say so of a strategy that stayed out of a market
where holding lost money; an undefined Sharpe ratio has no interval."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mastertrade.engine.generator.report import ReportOptions, block_bootstrap, verdict
from tests.conftest import MT


def _report(own: dict[str, float | int | None], baseline: dict[str, float | None]) -> dict[str, object]:
    return {
        "full": own,
        "buy_and_hold": baseline,
        "deflated": {"deflated_sharpe": 0.99},
        "bootstrap": {"sharpe": [0.2, 2.0]},
        "walk_forward": [{"out_of_sample": {"sharpe": 1.0}}],
    }


def test_less_money_than_buy_and_hold_is_said_even_with_a_better_sharpe_ratio() -> None:
    own = {"trades": 40, "sharpe": 1.4, "return_pct": 50.0}
    said = verdict(_report(own, {"sharpe": 1.2, "return_pct": 300.0}), ReportOptions())
    assert said.startswith("evidence of an edge")
    assert "it does worse than buy-and-hold (return 50.00% against 300.00%" in said


def test_a_lower_sharpe_ratio_alone_is_said_with_both_figures() -> None:
    own = {"trades": 40, "sharpe": 0.9, "return_pct": 80.0}
    said = verdict(_report(own, {"sharpe": 1.2, "return_pct": 60.0}), ReportOptions())
    assert (
        "it does worse than buy-and-hold (Sharpe 0.90 against 1.20, though its return 80.00% against" in said
    )


def test_no_sharpe_ratio_of_its_own_names_the_returns_only() -> None:
    own = {"trades": 0, "sharpe": None, "return_pct": 0.0}
    said = verdict(_report(own, {"sharpe": 3.0, "return_pct": 900.0}), ReportOptions())
    assert (
        said
        == "too few trades to judge (0 < 10); it does worse than buy-and-hold (return 0.00% against 900.00%)"
    )


def test_beating_buy_and_hold_on_both_says_nothing_of_it() -> None:
    own = {"trades": 40, "sharpe": 1.5, "return_pct": 80.0}
    assert "buy-and-hold" not in verdict(_report(own, {"sharpe": 1.2, "return_pct": 60.0}), ReportOptions())


def test_no_variance_has_no_sharpe_interval() -> None:
    intervals = block_bootstrap(np.zeros(400), seed=0)
    assert intervals["sharpe"] is None and intervals["max_drawdown_pct"] == [0.0, 0.0]


def test_a_flat_market_where_nothing_trades(mt: MT, tmp_path: Path) -> None:
    days = np.datetime64("2021-01-01") + np.arange(400)
    lines = ["timestamp,open,high,low,close,volume", *(f"{day},100,100,100,100,10" for day in days)]
    (tmp_path / "flat.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ("--symbol", "FLAT/USDT", "--timeframe", "1d")
    assert mt("data", "import", str(tmp_path / "flat.csv"), *args).exit_code == 0

    report = mt.json("validate", "sma_cross", *args)
    assert report["full"]["trades"] == 0 and report["full"]["return_pct"] == 0.0
    assert report["buy_and_hold"]["return_pct"] < 0  # holding pays the entry fee in a flat market
    assert report["verdict"] == "too few trades to judge (0 < 10)"
    assert report["bootstrap"]["sharpe"] is None
    table = mt("validate", "sma_cross", *args)
    assert table.exit_code == 0 and "Sharpe 0.00 to 0.00" not in table.stdout
    assert "Sharpe undefined" in table.stdout
