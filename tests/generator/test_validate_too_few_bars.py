"""`mt validate ... --start` near the end of the series failed with "mt: error: 2 bars are too few for 4
folds": neither the option that made the range so short nor the series was named. The error now names
the series, the range and what to change."""

from __future__ import annotations

from tests.conftest import MT


def test_a_range_too_short_names_the_option(mt: MT) -> None:
    sim = mt(
        "data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", "500", "--seed", "1", "--end", "2024-03-01"
    )
    assert sim.exit_code == 0, sim.stderr
    args = ("validate", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h")
    result = mt(*args, "--start", "2024-02-29T21:00:00Z")
    assert result.exit_code == 2 and result.stdout == "" and result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        "mt: error: sim:BTC/USDT:1h from --start 2024-02-29T21:00:00Z: 3 bars are too few for 4 walk-forward"
        " windows ([generator] walk_forward_windows): give an earlier --start"
    ), result.stderr
    result = mt(*args, "--end", "2024-02-09T08:00:00Z")
    assert result.exit_code == 2 and "before --end 2024-02-09T08:00:00Z" in result.stderr
    assert "give a later --end" in result.stderr
