"""``mt data import`` / ``mt data export``: strict validation, exact round trip, nothing half-written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import MT

HEADER = "timestamp,open,high,low,close,volume\n"
GOOD = (
    HEADER
    + "2024-01-01T00:00:00Z,42000.5,42100.25,41950.125,42050.1,12.5\n"
    + "1704070800000,42050.1,42075,41900.000001,41999.99,0.333333333333333\n"
    + "2024-01-01T02:00:00+00:00,41999.99,42500,41999.99,42400.7,7\n"
)


def test_import_export_round_trip_is_exact(mt: MT, db_url: str, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(GOOD)
    report = mt.json("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert report["rows"] == 3 and report["new"] == 3 and report["series"] == "csv:BTC/USDT:1h"
    out = tmp_path / "out.csv"
    mt.json("data", "export", "BTC/USDT", "--timeframe", "1h", "--out", str(out))
    text = out.read_text()
    assert text.splitlines()[1] == "2024-01-01T00:00:00Z,42000.5,42100.25,41950.125,42050.1,12.5"
    assert "0.333333333333333" in text
    # a second import of the exported file changes nothing and re-exports byte for byte
    again = mt.json("data", "import", str(out), "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert again["new"] == 0 and again["replaced"] == 3
    out2 = tmp_path / "out2.csv"
    mt.json("data", "export", "BTC/USDT", "--timeframe", "1h", "--out", str(out2), "--time-format", "ms")
    mt.json("data", "import", str(out2), "--symbol", "X/Y", "--timeframe", "1h")
    out3 = tmp_path / "out3.csv"
    mt.json("data", "export", "X/Y", "--timeframe", "1h", "--out", str(out3))
    assert out3.read_text() == text


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            "timestamp,open,high,low,close\n2024-01-01T00:00:00Z,1,2,0.5,1\n",
            "missing column volume",
        ),
        (
            HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1,1\n2024-01-01T01:00:00Z,1,2,abc,1,1\n",
            "line 3: low 'abc' is not a number",
        ),
        (
            HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1,1\nyesterday,1,2,0.5,1,1\n",
            "line 3: timestamp 'yesterday' is neither",
        ),
        (HEADER + "2024-01-01T00:00:00Z,1,0.5,2,1,1\n", "line 2: high 0.5 < low 2.0"),
        (
            HEADER + "2024-01-01T01:00:00Z,1,2,0.5,1,1\n2024-01-01T00:00:00Z,1,2,0.5,1,1\n",
            "line 3: timestamp 2024-01-01T00:00:00Z does not come after",
        ),
        (
            HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1,1\n2024-01-01T00:00:00Z,1,2,0.5,1,1\n",
            "line 3: .* strictly increase",
        ),
        (HEADER + "2024-01-01T00:30:00Z,1,2,0.5,1,1\n", "line 2: .*not on the 1h bar grid"),
        (HEADER + "2024-01-01T00:00:00Z,1,2,0.5,3,1\n", "line 2: close 3.0 outside"),
        (HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1,-1\n", "line 2: volume -1.0 is negative"),
        (HEADER + "2024-01-01T00:00:00Z,0,2,0.5,1,1\n", "line 2: prices must be positive"),
        (HEADER, "no rows after the header"),
        ("", "empty file"),
        # a second close column in another case was read as the volume
        (
            "timestamp,open,high,low,close,volume,Close\n2024-01-01T00:00:00Z,1,2,0.5,1,1,1.5\n",
            "column close appears more than once",
        ),
        (
            "timestamp,open,high,low,close,volume,close\n2024-01-01T00:00:00Z,1,2,0.5,1,1,1.5\n",
            "column close appears more than once",
        ),
        # a row longer than the header: a traceback, or the columns shifted into pandas' index
        (
            HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1,1\n2024-01-01T01:00:00Z,1,2,0.5,1,1,9\n",
            "line 3: 7 fields, but the header has 6",
        ),
        (HEADER + "2024-01-01T00:00:00Z,100,110,90,105,10,\n", "line 2: more fields than the header's 6"),
        # epoch microseconds (Binance's spot files since 2025) were stored in the year 55969
        (
            HEADER + "1704067200000000,1,2,0.5,1,1\n",
            "line 2: timestamp '1704067200000000' is after the year 9999 .*microseconds",
        ),
        (HEADER + "1704067200,1,2,0.5,1,1\n1704070800,1,2,0.5,1,1\n", "line 2: .*epoch seconds\\?"),
        # hourly bars imported as 1h-spaced rows of another timeframe... and 3h bars as 1h
        (
            HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1,1\n2024-01-01T03:00:00Z,1,2,0.5,1,1\n"
            "2024-01-01T06:00:00Z,1,2,0.5,1,1\n",
            "no two rows are one 1h bar apart .*timeframe 3h",
        ),
        (
            HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1,1\n\n2024-01-01T01:00:00Z,1,2,0.5,1,1\n",
            "line 3 is blank",
        ),
        (
            "2024-01-01T00:00:00Z,1,2,0.5,1,1\n2024-01-01T01:00:00Z,1,2,0.5,1,1\n",
            "is a row of data, the header is missing",
        ),
        (HEADER.replace(",", ";") + "2024-01-01T00:00:00Z;1;2;0.5;1;1\n", "separated by commas, not ';'"),
        (HEADER + "2024-01-01T00:00:00.0005Z,1,2,0.5,1,1\n", "line 2: .*not on a whole millisecond"),
    ],
)
def test_bad_file_is_rejected_whole(mt: MT, db_url: str, tmp_path: Path, body: str, reason: str) -> None:
    good = tmp_path / "good.csv"
    good.write_text(GOOD)
    assert mt("data", "import", str(good), "--symbol", "BTC/USDT", "--timeframe", "1h").exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(body)
    result = mt("data", "import", str(bad), "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("mt: error: ")
    import re

    assert re.search(reason, result.stderr), result.stderr
    listed = mt.json("data", "list")
    assert [s["rows"] for s in listed] == [3]  # the good rows are still there, nothing added


def test_export_refuses_to_overwrite(mt: MT, db_url: str, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(GOOD)
    mt.json("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    result = mt("data", "export", "BTC/USDT", "--timeframe", "1h", "--out", str(src))
    assert result.exit_code == 2 and "pass --force" in result.stderr
    assert src.read_text() == GOOD
    assert mt("data", "export", "BTC/USDT", "--timeframe", "1h", "--out", str(src), "--force").exit_code == 0


def test_missing_file_and_unknown_series(mt: MT, db_url: str, tmp_path: Path) -> None:
    result = mt("data", "import", str(tmp_path / "nope.csv"), "--symbol", "A/B", "--timeframe", "1h")
    assert result.exit_code == 2 and "no such file" in result.stderr
    result = mt("data", "export", "A/B", "--timeframe", "1h", "--out", str(tmp_path / "x.csv"))
    assert result.exit_code == 2 and "no candles stored for A/B 1h" in result.stderr


@pytest.mark.parametrize(
    ("name", "text", "timeframe"),
    [
        # an upper-case header over epoch-millisecond stamps was a traceback
        (
            "upper",
            HEADER.upper() + "1704067200000,42000.5,42100.25,41950.125,42050.1,12.5\n"
            "1704070800000,42050.1,42075,41900.000001,41999.99,0.333333333333333\n",
            "1h",
        ),
        # blank lines after the last row, as editors and spreadsheets leave them, were rejected
        ("trailing", GOOD.replace("\n", "\r\n") + "\r\n  \r\n\r\n", "1h"),
        ("bom", "\ufeff" + GOOD.replace(HEADER, "Timestamp,Open,High,Low,Close,Volume\n"), "1h"),
        # weekly bars open on Mondays on exchanges (and `mt data check` accepts them): were off-grid
        (
            "weekly",
            HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1.5,3\n2024-01-08T00:00:00Z,1.5,2.5,1,2,4\n"
            "2024-01-22T00:00:00Z,2,3,1.5,2.5,5\n",
            "1w",
        ),
    ],
    ids=["upper", "trailing", "bom", "weekly"],
)
def test_files_as_traders_have_them_import_exactly(
    mt: MT, db_url: str, tmp_path: Path, name: str, text: str, timeframe: str
) -> None:
    import pandas as pd

    src = tmp_path / f"{name}.csv"
    src.write_text(text, newline="")
    report = mt.json("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", timeframe)
    out = tmp_path / "out.csv"
    mt.json("data", "export", "BTC/USDT", "--timeframe", timeframe, "--out", str(out))
    given = pd.read_csv(src, skip_blank_lines=True, encoding="utf-8-sig", dtype={0: str})
    given.columns = [c.lower() for c in given.columns]
    stored = pd.read_csv(out)
    assert report["rows"] == len(given) == len(stored)
    stamps = [
        pd.Timestamp(int(t), unit="ms", tz="UTC") if t.isdigit() else pd.Timestamp(t).tz_convert("UTC")
        for t in given["timestamp"]
    ]
    assert list(pd.to_datetime(stored["timestamp"], utc=True)) == stamps
    for column in ("open", "high", "low", "close", "volume"):
        assert stored[column].tolist() == given[column].tolist()


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("--symbol", ""), "invalid symbol ''"),
        (("--symbol", "BTC"), "invalid symbol 'BTC'"),
        (("--symbol", "BTC/"), "invalid symbol 'BTC/'"),
        (("--symbol", "BTC/USDT", "--exchange", " "), "invalid --exchange ' '"),
    ],
)
def test_import_needs_a_symbol_and_an_exchange(
    mt: MT, db_url: str, tmp_path: Path, args: tuple[str, ...], reason: str
) -> None:
    src = tmp_path / "in.csv"
    src.write_text(GOOD)
    result = mt("data", "import", str(src), "--timeframe", "1h", *args)
    assert result.exit_code == 2 and result.stderr.startswith("mt: error: ") and reason in result.stderr
    assert mt.json("data", "list") == []


def test_export_to_a_path_it_cannot_write_is_one_line(mt: MT, db_url: str, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(GOOD)
    mt.json("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    folder = tmp_path / "folder"
    folder.mkdir()
    for out, reason in (
        (folder, "is a folder"),
        (src / "x.csv", "cannot write"),  # a file where a folder should be
    ):
        result = mt("data", "export", "BTC/USDT", "--timeframe", "1h", "--out", str(out), "--force")
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("mt: error: ") and result.stderr.count("\n") == 1
        assert reason in result.stderr and str(out) in result.stderr
    assert src.read_text() == GOOD and list(folder.iterdir()) == []
