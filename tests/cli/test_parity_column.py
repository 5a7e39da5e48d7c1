"""`mt strategy list`'s parity column counts trades in words that agree with the count."""

from __future__ import annotations

from mastertrade.cli.strategy import _parity


def status(*, diverged: bool, same: int, mismatched: int) -> dict[str, object]:
    return {"diverged": diverged, "identical": not diverged, "same": same, "mismatched": mismatched}


def test_one_trade_is_one_trade() -> None:
    assert _parity(status(diverged=False, same=1, mismatched=0)) == "identical (1 trade)"
    assert _parity(status(diverged=False, same=3, mismatched=0)) == "identical (3 trades)"
    assert _parity(status(diverged=True, same=0, mismatched=1)) == "DIVERGED (1 trade)"
