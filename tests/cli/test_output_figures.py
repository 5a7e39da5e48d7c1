"""Small figures in command output: trade counts in words that agree, rates not rounded to 0."""

from __future__ import annotations

from mastertrade.cli.strategy import _parity


def status(*, diverged: bool, same: int, mismatched: int) -> dict[str, object]:
    return {"diverged": diverged, "identical": not diverged, "same": same, "mismatched": mismatched}


def test_one_trade_is_one_trade() -> None:
    assert _parity(status(diverged=False, same=1, mismatched=0)) == "identical (1 trade)"
    assert _parity(status(diverged=False, same=3, mismatched=0)) == "identical (3 trades)"
    assert _parity(status(diverged=True, same=0, mismatched=1)) == "DIVERGED (1 trade)"


def test_a_slow_batch_rate_is_not_shown_as_zero() -> None:
    from mastertrade.cli.backtest import _rate

    assert _rate(0.37) == "0.37" and _rate(2.0) == "2" and _rate(9.5) == "9.5" and _rate(12_345.6) == "12,346"
