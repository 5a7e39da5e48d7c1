"""``mt validate``: a report on any strategy (built-in, genome file, plugin), not a gate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mastertrade.engine.generator.report import block_bootstrap
from tests.conftest import MT

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


def test_block_bootstrap_is_seeded_and_centred() -> None:
    rng = np.random.default_rng(3)
    returns = rng.normal(0.001, 0.02, 1000)
    first = block_bootstrap(returns, seed=1)
    assert first == block_bootstrap(returns, seed=1)
    sharpe = returns.mean() / returns.std(ddof=1) * np.sqrt(365)
    low, high = first["sharpe"]
    assert low < sharpe < high and high - low == pytest.approx(2 * 1.96 * np.sqrt(365 / 1000), rel=0.3)
    assert block_bootstrap(returns[:5], seed=1)["sharpe"] is None
