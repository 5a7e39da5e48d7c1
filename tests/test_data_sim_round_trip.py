"""Simulated candles never come back as real ones. `mt data export` of a simulated series wrote the
same file as a real series', and `mt data import` of it stored the simulated prices under `csv`, a real
series: listed, backtested and reported with no SIMULATED label. Now the export says so in a
`simulated` column (true on every row) and the import stores such a file under `sim` again, labelled;
another --exchange is refused, naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import MT

END = "2026-01-01T00:00:00Z"
HEADER = "timestamp,open,high,low,close,volume"


def _exported(mt: MT, tmp_path: Path) -> Path:
    mt.json("data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", "200", "--seed", "5", "--end", END)
    out = tmp_path / "btc.csv"
    report = mt.json("data", "export", "BTC/USDT", "--timeframe", "1h", "--out", str(out))
    assert report["simulated"] is True
    return out


def test_a_simulated_series_exported_and_imported_again_stays_simulated(
    mt: MT, db_url: str, tmp_path: Path
) -> None:
    out = _exported(mt, tmp_path)
    lines = out.read_text().splitlines()
    assert lines[0] == HEADER + ",simulated" and all(line.endswith(",true") for line in lines[1:])

    deleted = mt("data", "delete", "BTC/USDT", "--timeframe", "1h", "--yes")
    assert deleted.exit_code == 0, deleted.output
    result = mt("data", "import", str(out), "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert result.exit_code == 0, result.output
    said = " ".join(result.stderr.split())
    assert "imported 200 SIMULATED candles into sim:BTC/USDT:1h" in said
    assert f"{out} holds simulated candles (its simulated column" in said
    [series] = mt.json("data", "list")
    assert (series["exchange"], series["simulated"], series["rows"]) == ("sim", True, 200)
    assert mt.json("backtest", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h")["simulated"] is True
    # and the file it exports again is the same, byte for byte
    again = tmp_path / "again.csv"
    mt.json("data", "export", "BTC/USDT", "--timeframe", "1h", "--out", str(again))
    assert again.read_bytes() == out.read_bytes()


@pytest.mark.parametrize("exchange", ["csv", "binance"])
def test_a_simulated_file_is_never_imported_as_an_exchanges_prices(
    mt: MT, db_url: str, tmp_path: Path, exchange: str
) -> None:
    out = _exported(mt, tmp_path)
    args = ("data", "import", str(out), "--symbol", "BTC/USDT", "--timeframe", "1h", "--exchange", exchange)
    result = mt(*args)
    assert result.exit_code == 2
    assert result.stderr == (
        f"mt: error: invalid --exchange {exchange!r}: {out} holds simulated candles (its simulated column,"
        " as `mt data export` writes for a simulated series), which are stored under sim only, never as an"
        " exchange's real prices: leave --exchange out\n"
    )
    assert [series["exchange"] for series in mt.json("data", "list")] == ["sim"]


@pytest.mark.parametrize(
    ("cells", "says"),
    [
        (("true", "false"), "line 3: simulated is 'false', 'true' on line 2: a file holds simulated candles"),
        (("true", ""), "line 3: simulated is '': expected true or false"),
        (("yes", "yes"), "line 2: simulated is 'yes': expected true or false"),
    ],
)
def test_a_simulated_column_says_one_thing_of_the_whole_file(
    mt: MT, db_url: str, tmp_path: Path, cells: tuple[str, str], says: str
) -> None:
    src = tmp_path / "mixed.csv"
    src.write_text(
        f"{HEADER},simulated\n"
        f"2024-01-01T00:00:00Z,1,2,0.5,1.5,3,{cells[0]}\n"
        f"2024-01-01T01:00:00Z,1.5,2,1,1.2,3,{cells[1]}\n"
    )
    result = mt("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"mt: error: {src}: {says}") and result.stderr.count("\n") == 1
    assert mt.json("data", "list") == []


def test_a_real_file_with_simulated_false_is_imported_as_real(mt: MT, db_url: str, tmp_path: Path) -> None:
    src = tmp_path / "real.csv"
    src.write_text(f"{HEADER},Simulated\n2024-01-01T00:00:00Z,1,2,0.5,1.5,3,False\n")
    report = mt.json("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert report["series"] == "csv:BTC/USDT:1h" and report["simulated"] is False
    refused = mt("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h", "--exchange", "sim")
    assert refused.exit_code == 2 and "the simulated market's own id" in refused.stderr
