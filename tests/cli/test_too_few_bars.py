"""A series too short to search is refused naming the series and how its bars were cut: `mt generate` and
`mt optimize` said "invalid out-of-sample length 0 bars: 4 bars are too few for 4 folds" of a 5-bar import,
a length the trader never gave and a count of bars the trader never stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import MT

HOUR = 3_600_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z


def import_bars(mt: MT, tmp_path: Path, bars: int) -> None:
    lines = ["timestamp,open,high,low,close,volume"]
    lines += [f"{T0 + i * HOUR},100,102,98,{99 + i % 3},5" for i in range(bars)]
    path = tmp_path / "short.csv"
    path.write_text("\n".join(lines) + "\n")
    result = mt("data", "import", str(path), "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize(
    ("bars", "message"),
    [
        (5, "csv:BTC/USDT:1h: 5 bars (4 to search, the newest 1 held out): 4 bars are too few for 4 folds"),
        (
            200,
            "csv:BTC/USDT:1h: 200 bars (150 to search, the newest 50 held out): 150 bars are too few for 4"
            " walk-forward windows: each out-of-sample window needs at least two days of bars for a Sharpe"
            " ratio",
        ),
    ],
)
@pytest.mark.parametrize(
    "command", [["generate", "--count", "5"], ["optimize", "sma_cross", "--trials", "2"]]
)
def test_a_series_too_short_to_search_is_named_with_its_cut(
    mt: MT, tmp_path: Path, bars: int, message: str, command: list[str]
) -> None:
    import_bars(mt, tmp_path, bars)
    result = mt(*command, "--symbol", "BTC/USDT", "--timeframe", "1h", "--json")
    assert result.exit_code == 2
    assert result.stderr == f"mt: error: {message}\n"
    assert result.stdout == ""


def test_validate_names_the_series_length(mt: MT, tmp_path: Path) -> None:
    import_bars(mt, tmp_path, 5)
    result = mt("validate", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert result.exit_code == 2
    assert result.stderr == (
        "mt: error: csv:BTC/USDT:1h: 5 bars are too few for 4 walk-forward windows ([generator]"
        " walk_forward_windows): give more bars (`mt data download`)\n"
    )
