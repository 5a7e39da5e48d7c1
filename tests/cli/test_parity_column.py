"""`mt strategy list`'s parity column counts trades in words that agree with the count."""

from __future__ import annotations

from mastertrade.cli.strategy import _parity


def test_one_trade_is_one_trade() -> None:
    assert _parity({"diverged": False, "identical": True, "same": 1, "mismatched": 0}) == "identical (1 trade)"
    assert _parity({"diverged": False, "identical": True, "same": 3, "mismatched": 0}) == "identical (3 trades)"
    assert _parity({"diverged": True, "identical": False, "same": 0, "mismatched": 1}) == "DIVERGED (1 trade)"
