"""``mt validate``: a report on any strategy (built-in, genome file, plugin), not a gate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mastertrade.engine.generator.report import block_bootstrap
from tests.conftest import MT
from tests.generator.helpers import SIM_3000

SIM = ("data", "sim", "BTC/USDT", "--timeframe", "1d", "--bars", "900", "--seed", "11", "--end", "2025-01-01")


@pytest.fixture
def simulated(mt: MT) -> None:
    result = mt(*SIM)
    assert result.exit_code == 0, result.stderr


def test_validate_reports_windows_deflation_intervals_and_a_verdict(mt: MT, simulated: None) -> None:
    one = mt.json("validate", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1d")
    many = mt.json("validate", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1d", "--trials", "200")
    plain = mt.json("backtest", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1d")
    assert (
        one["full"]["sharpe"] == pytest.approx(plain["sharpe"]) and one["full"]["trades"] == plain["trades"]
    )
    assert len(one["walk_forward"]) == 4
    assert all({"in_sample", "out_of_sample", "fold"} <= set(w) for w in one["walk_forward"])
    # more declared trials: a higher bar, a lower deflated Sharpe
    assert one["deflated"]["trials"] == 1 and many["deflated"]["trials"] == 200
    if one["deflated"]["deflated_sharpe"] not in (0.0, 1.0):
        assert many["deflated"]["deflated_sharpe"] < one["deflated"]["deflated_sharpe"]
    low, high = one["bootstrap"]["sharpe"]
    assert low < one["full"]["sharpe"] < high
    dd_low, dd_high = one["bootstrap"]["max_drawdown_pct"]
    assert 0 <= dd_low <= dd_high <= 100
    assert isinstance(one["verdict"], str) and one["verdict"]
    assert "sharpe" in one["buy_and_hold"] and one["buy_and_hold"]["trades"] <= 1
    table = mt("validate", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1d")
    assert table.exit_code == 0 and "verdict:" in table.stdout and "buy-and-hold" in table.stdout


def test_validate_any_kind_of_strategy(mt: MT, simulated: None, tmp_path: Path) -> None:
    exported = mt("strategy", "export", "rsi_reversion", "--out", str(tmp_path / "mine.json"))
    if exported.exit_code != 0:  # export may only take stored ids: write the built-in's genome ourselves
        from mastertrade.engine.signals.builtins import BUILTINS

        (tmp_path / "mine.json").write_text(BUILTINS["rsi_reversion"].to_json(), encoding="utf-8")
    from_file = mt.json("validate", str(tmp_path / "mine.json"), "--symbol", "BTC/USDT", "--timeframe", "1d")
    assert from_file["bars"] == 900
    plugin = mt.json("validate", "vol_momentum", "--symbol", "BTC/USDT", "--timeframe", "1d")
    assert plugin["strategy"] and len(plugin["walk_forward"]) == 4


def test_validate_bad_input_exits_2(mt: MT, simulated: None) -> None:
    result = mt("validate", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1d", "--trials", "0")
    assert result.exit_code == 2 and result.stderr == "mt: error: invalid --trials 0: must be >= 1\n"
    result = mt("validate", "nope", "--symbol", "BTC/USDT", "--timeframe", "1d")
    assert result.exit_code == 2 and "unknown strategy 'nope'" in result.stderr and result.stdout == ""
    result = mt("validate", "sma_cross", "--symbol", "ETH/USDT", "--timeframe", "1d", "--json")
    assert result.exit_code == 2 and "ETH/USDT" in result.stderr and result.stdout == ""
    backwards = ("--start", "2024-06-01", "--end", "2024-01-01")
    result = mt("validate", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1d", *backwards)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == "mt: error: invalid --end '2024-01-01': it must be after --start '2024-06-01'\n"


def test_block_bootstrap_is_seeded_and_centred() -> None:
    rng = np.random.default_rng(3)
    returns = rng.normal(0.001, 0.02, 1000)
    first = block_bootstrap(returns, seed=1)
    assert first == block_bootstrap(returns, seed=1)
    sharpe = returns.mean() / returns.std(ddof=1) * np.sqrt(365)
    low, high = first["sharpe"]
    assert low < sharpe < high and high - low == pytest.approx(2 * 1.96 * np.sqrt(365 / 1000), rel=0.3)
    assert block_bootstrap(returns[:5], seed=1)["sharpe"] is None


def test_a_generated_strategy_is_validated_on_bars_its_search_never_saw(mt: MT, lenient: None) -> None:
    """`mt validate ID` of a generated strategy on its own series: by default it starts after the last
    bar its search saw and counts the trials its generation counted; an earlier --start marks the
    windows its search saw and the verdict says so; another series is new to it (no marks)."""
    sim = SIM_3000
    assert mt(*sim).exit_code == 0
    run = mt.json("generate", "--count", "4", "--population", "8", "--generations", "1", "--seed", "3")
    row = run["strategies"][0]
    shown = mt.json("strategy", "show", row["id"])
    searched_until = shown["metrics"]["end"]
    trials = shown["selection"]["deflated_trials"]["trials_used"]

    report = mt.json("validate", row["id"])
    assert report["deflated"]["trials"] == trials > 1 and report["deflated"]["trials_source"] == "recorded"
    assert report["provenance"]["searched_until"] == searched_until
    assert (
        report["provenance"]["seen_bars"] == 0 and report["full"]["start"] == run["data"]["holdout"]["start"]
    )
    assert not any(window["seen_by_search"] for window in report["walk_forward"])
    assert "its search chose it on" not in report["verdict"]  # no bar of its search in it

    early = mt.json("validate", row["id"][:10], "--start", "2024-01-01", "--trials", "7")
    assert early["deflated"]["trials"] == 7 and early["deflated"]["trials_source"] == "declared"
    assert early["provenance"]["seen_bars"] == run["data"]["search_window"]["bars"]
    assert [w["seen_by_search"] for w in early["walk_forward"]][0] is True
    assert early["verdict"].startswith(f"{run['data']['search_window']['bars']:,} of these 3,000 bars")
    table = mt("validate", row["id"], "--start", "2024-01-01")
    assert "window 0 (searched)" in table.stdout and "its search saw the bars to" in table.stdout

    assert mt(*sim[:2], "ETH/USDT", *sim[3:]).exit_code == 0
    other = mt.json("validate", row["id"], "--symbol", "ETH/USDT")  # a series its search never read
    assert "provenance" not in other and other["deflated"]["trials"] == 1
    assert other["full"]["bars"] == 3000


def test_a_generated_strategy_validated_on_its_hold_out_gets_the_deflated_sharpe_it_was_judged_with(
    mt: MT, lenient: None
) -> None:
    """`mt validate ID` over the hold-out counts the trials its generation counted and deflates with the
    variance V of their Sharpe ratios observed then, so it says what `mt strategy show ID` says: it took
    the skill-less 1/(T-1) instead (0.019 against the 0.001 the strategy was judged with)."""
    assert mt(*SIM_3000).exit_code == 0
    run = mt.json("generate", "--count", "4", "--population", "8", "--generations", "1", "--seed", "3")
    shown = mt.json("strategy", "show", run["strategies"][0]["id"])
    judged = shown["selection"]["deflated_trials"]
    assert judged["variance_source"] == "observed" and shown["deflated_sharpe"] is not None

    report = mt.json("validate", shown["id"])
    assert report["full"]["start"] == shown["out_of_sample"]["start"]
    assert report["full"]["end"] == shown["out_of_sample"]["end"]
    assert report["deflated"]["trials"] == judged["trials_used"]
    assert report["deflated"]["trial_variance"] == judged["variance_used"]
    assert report["deflated"]["variance_source"] == "recorded"
    assert report["deflated"]["deflated_sharpe"] == pytest.approx(shown["deflated_sharpe"], rel=1e-9)
    table = mt("validate", shown["id"])
    assert f"V = {judged['variance_used']:.5f} per day (observed among the trials" in table.stdout

    # a strategy with no recorded choice keeps the skill-less V over the report's own days
    plain = mt.json("validate", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h")
    days = plain["deflated"]["days"]
    assert plain["deflated"]["variance_source"] == "skill-less"
    assert plain["deflated"]["trial_variance"] == pytest.approx(1 / (days - 1))


def test_a_backtest_of_a_generated_strategy_says_which_bars_its_search_chose_it_on(
    mt: MT, lenient: None
) -> None:
    """`mt backtest ID` on its own series printed a return over bars its search chose it on (the older 75%
    of a default run's) without a word, as `mt backtest model:ID` once did for a policy's training bars;
    over its hold-out it says nothing, on another market that its search never saw it."""
    assert mt(*SIM_3000).exit_code == 0
    run = mt.json("generate", "--count", "4", "--population", "8", "--generations", "1", "--seed", "3")
    strategy = run["strategies"][0]["id"]
    searched, until = run["data"]["search_window"]["bars"], run["data"]["search_window"]["end"]

    whole = mt("backtest", strategy, "--json")
    assert whole.exit_code == 0, whole.stderr
    assert (
        f"mt: warning: {searched:,} of these 3,000 bars are ones its search chose it on (up to {until}):"
        f" in-sample, not evidence; `mt validate {strategy}` reports on the bars after" in whole.stderr
    )
    hold_out = mt("backtest", strategy, "--start", run["data"]["holdout"]["start"], "--json")
    assert hold_out.exit_code == 0 and "its search" not in hold_out.stderr
    assert mt(*SIM_3000[:2], "ETH/USDT", *SIM_3000[3:]).exit_code == 0
    other = mt("backtest", strategy, "--symbol", "ETH/USDT", "--json")
    assert "was searched on BTC/USDT 1h (sim): ETH/USDT 1h (sim) is a market it never saw" in other.stderr
    assert "its search chose it on" not in other.stderr


def test_a_few_days_give_no_deflated_sharpe_and_the_report_says_why(mt: MT, simulated: None) -> None:
    """A few weeks of daily returns cannot estimate a Sharpe ratio's spread, skewness and kurtosis: the
    deflated Sharpe ratio is undefined below 30 of them, in the JSON and in words."""
    days = ("--symbol", "BTC/USDT", "--timeframe", "1d", "--start", "2024-06-01", "--end", "2024-06-20")
    short = mt.json("validate", "sma_cross", *days)
    assert short["deflated"]["days"] < 30 and short["deflated"]["deflated_sharpe"] is None
    table = mt("validate", "sma_cross", *days)
    assert table.exit_code == 0, table.stderr
    assert "(undefined: fewer than 30 daily returns)" in table.stdout
    month = ("--symbol", "BTC/USDT", "--timeframe", "1d", "--start", "2023-01-01", "--end", "2024-06-20")
    enough = mt.json("validate", "sma_cross", *month)
    assert enough["deflated"]["days"] >= 30 and enough["deflated"]["deflated_sharpe"] is not None
