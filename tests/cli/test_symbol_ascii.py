"""A symbol is printable ASCII with one slash, as every exchange's unified symbols are. `mt data import
--symbol BTC/ＵSDT` (a full-width U), an emoji, a right-to-left override, `BTC//USDT` or
`../../etc/passwd` each stored a series of its own, a market no exchange lists, beside BTC/USDT."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import MT

CSV = (
    "time,open,high,low,close,volume\n"
    "2026-01-01T00:00:00Z,1,2,0.5,1.5,10\n"
    "2026-01-01T01:00:00Z,1.5,2,1,1.8,12\n"
)


@pytest.mark.parametrize(
    ("symbol", "why"),
    [
        ("BTC/ＵSDT", "printable ASCII only, like BTC/USDT"),
        ("🚀/USDT", "printable ASCII only, like BTC/USDT"),
        ("\u202eBTC/USDT", "printable ASCII only, like BTC/USDT"),
        ("BTC//USDT", "one slash, BASE/QUOTE, like BTC/USDT"),
        ("BTC/USDT/X", "one slash, BASE/QUOTE, like BTC/USDT"),
        ("../../etc/passwd", "one slash, BASE/QUOTE, like BTC/USDT"),
    ],
)
def test_a_symbol_no_exchange_lists_is_refused_and_nothing_stored(
    mt: MT, tmp_path: Path, symbol: str, why: str
) -> None:
    path = tmp_path / "bars.csv"
    path.write_text(CSV)
    imported = ["data", "import", str(path), "--symbol", symbol, "--timeframe", "1h"]
    for command in (imported, ["data", "sim", symbol, "--bars", "50"]):
        result = mt(*command)
        assert result.exit_code == 2, result.stdout
        assert result.stderr == f"mt: error: invalid symbol {symbol!r}: {why}\n"
    assert mt.json("data", "list") == []


def test_a_unified_option_symbol_is_still_a_symbol(mt: MT) -> None:
    result = mt("data", "sim", "BTC/USD:BTC-261225-100000-C", "--bars", "50")
    assert result.exit_code == 0, result.stderr
