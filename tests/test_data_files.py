"""``mt data import`` / ``mt data export``: strict validation, exact round trip, nothing half-written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mastertrade.engine.market.csvio import read_candle_csv
from mastertrade.errors import DataValidationError
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
            # (rows newest first throughout are read oldest first; any other disorder is refused)
            HEADER + "2024-01-01T01:00:00Z,1,2,0.5,1,1\n2024-01-01T00:00:00Z,1,2,0.5,1,1\n"
            "2024-01-01T02:00:00Z,1,2,0.5,1,1\n",
            "line 3: timestamp 2024-01-01T00:00:00Z does not come after",
        ),
        (  # one time twice, with other values (an exact repeat is dropped with a note)
            HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1,1\n2024-01-01T00:00:00Z,1,2,0.5,1,2\n",
            "line 3: a second row for 2024-01-01T00:00:00Z, with other values than line 2's",
        ),
        (HEADER + "2024-01-01T00:30:00Z,1,2,0.5,1,1\n", "line 2: .*not on the 1h bar grid"),
        (HEADER + "2024-01-01T00:00:00Z,1,2,0.5,3,1\n", "line 2: close 3.0 outside"),
        (HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1,-1\n", "line 2: volume -1.0 is negative"),
        # the bad value is named, with its column ("a value is not finite" named neither)
        (HEADER + "2024-01-01T00:00:00Z,0,2,0.5,1,1\n", "line 2: open 0.0 is not positive \\(prices must be"),
        (HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1e400,1\n", "line 2: close inf is not finite"),
        (HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1,inf\n", "line 2: volume inf is not finite"),
        (HEADER, "no rows after the header"),
        # a last line cut short (a download or copy stopped half-way), with or without its line end
        (
            HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1,1\n2024-01-01T01:00:00Z,1,2",
            "line 3: 3 fields, but the header has 6 \\(a line cut short\\?\\)",
        ),
        (
            HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1,1\n2024-01-01T01:00:00Z,1,2,0.5,1\n\n",
            "line 3: 5 fields, but the header has 6",
        ),
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
        # epoch stamps whose unit their size does not tell (2001..2286 in s, ms or us), or mixed units
        (HEADER + "100000000000,1,2,0.5,1,1\n", "line 2: timestamp '100000000000' .*pass --time-unit"),
        (
            HEADER + "1704067200000,1,2,0.5,1,1\n1704070800,1,2,0.5,1,1\n",
            "line 3: timestamp '1704070800' is in epoch seconds but line 2's .* milliseconds",
        ),
        (HEADER + "1704067200000500,1,2,0.5,1,1\n", "line 2: .*not on a whole millisecond"),
        (HEADER + "17040672000000000,1,2,0.5,1,1\n", "line 2: timestamp '17040672000000000' .*--time-unit"),
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
        # zoned and unzoned ISO times in one file: the unzoned ones were taken as UTC (imported
        # silently), or the file was refused as having the wrong timeframe
        (
            HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1,1\n2024-01-01T01:00:00,1,2,0.5,1,1\n"
            "2024-01-01T02:00:00+00:00,1,2,0.5,1,1\n",
            "line 3: timestamp '2024-01-01T01:00:00' has no UTC offset, but line 2's "
            "'2024-01-01T00:00:00Z' has one: mixed zoned and unzoned timestamps",
        ),
        (
            HEADER + "2024-01-01 00:00:00,1,2,0.5,1,1\n2024-01-01 05:00:00+0200,1,2,0.5,1,1\n"
            "2024-01-01 06:00:00,1,2,0.5,1,1\n",
            "line 3: timestamp '2024-01-01 05:00:00\\+0200' has a UTC offset, but line 2's "
            "'2024-01-01 00:00:00' has none: mixed zoned and unzoned",
        ),
        # epoch times are UTC: unzoned ISO times beside them were taken as UTC too, and the 3h and 2h
        # steps of local times read as UTC blamed the timeframe ("is the file's timeframe 2h?")
        (
            HEADER + "1704067200000,1,2,0.5,1,1\n2024-01-01T03:00:00,1,2,0.5,1,1\n"
            "2024-01-01T05:00:00,1,2,0.5,1,1\n",
            "line 3: timestamp '2024-01-01T03:00:00' has no UTC offset, but line 2's '1704067200000' is an"
            " epoch time, which is UTC: mixed zoned and unzoned timestamps \\(give every ISO timestamp an"
            " offset\\)",
        ),
        (
            HEADER + "2024-01-01T00:00:00,1,2,0.5,1,1\n2024-01-01T01:00:00,1,2,0.5,1,1\n"
            "1704074400000,1,2,0.5,1,1\n",
            "line 4: timestamp '1704074400000' is an epoch time, which is UTC, but line 2's "
            "'2024-01-01T00:00:00' has no UTC offset: mixed zoned and unzoned",
        ),
        # the timestamp is quoted as the file has it, not as read (" UTC" as "+00:00")
        (
            HEADER + "2024-01-01 00:00:00,1,2,0.5,1,1\n2024-01-01 01:00:00 UTC,1,2,0.5,1,1\n",
            "line 3: timestamp '2024-01-01 01:00:00 UTC' has a UTC offset, but line 2's "
            "'2024-01-01 00:00:00' has none",
        ),
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
        # a file's candles were stored as the simulated market's (labelled simulated, mixed into its path)
        (("--symbol", "BTC/USDT", "--exchange", "sim"), "invalid --exchange 'sim': the simulated market's"),
        (("--symbol", "BTC/USDT", "--exchange", "SIM-live"), "invalid --exchange 'SIM-live': the simulated"),
        # wider than their columns: stored on SQLite (which ignores widths), a traceback on PostgreSQL
        (
            ("--symbol", f"{'A' * 28}/USDT"),
            f"invalid symbol '{'A' * 28}/USDT': at most 32 characters (33 given)",
        ),
        (
            ("--symbol", "BTC/USDT", "--exchange", "x" * 65),
            f"invalid --exchange '{'x' * 65}': at most 64 characters",
        ),
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


# Candle files as exchanges and data sites publish them, typed from their formats. Each case: the file,
# the --symbol, how each row's time field becomes epoch ms, the volume field, and what the import says.
_BINANCE = (
    "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,"
    "taker_buy_quote_volume,ignore\n"
)
_BINANCE_1H_MS = [
    "1704067200000,42283.58000000,42554.57000000,42261.02000000,42475.23000000,1271.68108000,"
    "1704070799999,53959049.28669720,47134,682.57581000,28964367.38138510,0",
    "1704070800000,42475.23000000,42775.00000000,42431.65000000,42613.56000000,1196.37856000,"
    "1704074399999,50957114.44328270,44845,620.35457000,26426017.31380380,0",
    "1704074400000,42613.57000000,42638.41000000,42500.00000000,42581.10000000,685.21093000,"
    "1704077999999,29171863.70017120,33021,344.63700000,14672440.40233660,0",
]
_BINANCE_1M_US = [
    "1735689600000000,93576.00000000,93610.93000000,93537.50000000,93610.93000000,8.21827000,"
    "1735689659999999,768978.31448420,1317,5.51514000,516056.44377450,0",
    "1735689660000000,93610.93000000,93652.00000000,93606.99000000,93648.00000000,4.29106000,"
    "1735689719999999,401777.60044310,1091,2.38208000,223059.10016980,0",
    "1735689720000000,93648.00000000,93648.00000000,93584.40000000,93584.40000000,2.91350000,"
    "1735689779999999,272651.45215310,876,1.01432000,94918.64137430,0",
]
_CDD_HEADER = "unix,date,symbol,open,high,low,close,Volume BTC,Volume USDT,tradecount\n"
_CDD_1H_MS = [  # newest first, as CryptoDataDownload writes them
    "1704074400000,2024-01-01 02:00:00,"
    "BTCUSDT,42613.57,42638.41,42500.0,42581.1,685.21093,29171863.7001712,33021",
    "1704070800000,2024-01-01 01:00:00,"
    "BTCUSDT,42475.23,42775.0,42431.65,42613.56,1196.37856,50957114.4432827,44845",
    "1704067200000,2024-01-01 00:00:00,"
    "BTCUSDT,42283.58,42554.57,42261.02,42475.23,1271.68108,53959049.2866972,47134",
]
_CDD_1D_S = [
    "1577923200,2020-01-02,ETH/USDT,130.84,130.95,126.95,127.19,155789.11,20081946.93",
    "1577836800,2020-01-01,ETH/USDT,128.87,132.9,128.68,130.77,245207.65,31984234.56",
]


_CDD_MIXED = [  # a Gemini file: its newer rows in milliseconds, its older ones in seconds
    "Unix Timestamp,Date,Symbol,Open,High,Low,Close,Volume",
    "1704153600000,2024-01-02 00:00:00,BTCUSD,44200,45900,44100,44950,1500.5",
    "1704067200000,2024-01-01 00:00:00,BTCUSD,42300,44200,42200,44200,1200.25",
    "1703980800,2023-12-31 00:00:00,BTCUSD,42100,42900,41900,42300,900.125",
]


def _ms(unit: int) -> Any:
    return lambda field: int(field) * 1000 // unit


@pytest.mark.parametrize(
    ("text", "symbol", "timeframe", "to_ms", "volume", "said"),
    [
        (
            "\n".join(_BINANCE_1H_MS) + "\n",
            "BTC/USDT",
            "1h",
            _ms(1000),
            5,
            [
                "read as a Binance kline file without a header, timestamps in epoch milliseconds; "
                "12 columns, 6 used"
            ],
        ),
        (
            "\n".join(_BINANCE_1M_US) + "\n",
            "BTC/USDT",
            "1m",
            _ms(1_000_000),
            5,
            [
                "read as a Binance kline file without a header, timestamps in epoch microseconds; "
                "12 columns, 6 used"
            ],
        ),
        (
            _BINANCE + "\n".join(_BINANCE_1M_US) + "\n",
            "BTC/USDT",
            "1m",
            _ms(1_000_000),
            5,
            [
                "read as a Binance kline file with its header, timestamps in epoch microseconds; "
                "12 columns, 6 used"
            ],
        ),
        (
            "https://www.CryptoDataDownload.com\n" + _CDD_HEADER + "\n".join(_CDD_1H_MS) + "\n",
            "BTC/USDT",
            "1h",
            _ms(1000),
            7,
            [
                "skipped a first line: https://www.CryptoDataDownload.com",
                "read as a CryptoDataDownload file, time from 'unix' in epoch milliseconds, volume from "
                "'Volume BTC' ('Volume USDT', the quote volume, not used); 10 columns, 6 used",
                "rows were newest first: stored oldest first",
            ],
        ),
        (
            "https://www.CryptoDataDownload.com\r\n"
            + "Unix Timestamp,Date,Symbol,Open,High,Low,Close,Volume ETH,Volume USDT\r\n"
            + "\r\n".join(_CDD_1D_S)
            + "\r\n",
            "ETH/USDT",
            "1d",
            _ms(1),
            7,
            [
                "skipped a first line: https://www.CryptoDataDownload.com",
                "read as a CryptoDataDownload file, time from 'Unix Timestamp' in epoch seconds, volume "
                "from 'Volume ETH' ('Volume USDT', the quote volume, not used); 9 columns, 6 used",
                "rows were newest first: stored oldest first",
            ],
        ),
        (
            "https://www.CryptoDataDownload.com\n" + "\n".join(_CDD_MIXED) + "\n",
            "BTC/USD",
            "1d",
            lambda f: int(f) if len(f) == 13 else int(f) * 1000,
            7,
            [
                "skipped a first line: https://www.CryptoDataDownload.com",
                "read as a CryptoDataDownload file, time from 'Unix Timestamp' in epoch seconds and epoch "
                "milliseconds, each row's unit confirmed by its date, volume from 'Volume'; 8 columns, 6 "
                "used",
                "rows were newest first: stored oldest first",
            ],
        ),
        (
            HEADER + "1704067200,1,2,0.5,1.5,3\n1704070800,1.5,2.5,1,2,4\n",
            "BTC/USDT",
            "1h",
            _ms(1),
            5,
            ["read time from 'timestamp' in epoch seconds, volume from 'volume'; 6 columns, 6 used"],
        ),
        (
            HEADER + "1704067200000000,1,2,0.5,1.5,3\n1704070800000000,1.5,2.5,1,2,4\n",
            "BTC/USDT",
            "1h",
            _ms(1_000_000),
            5,
            ["read time from 'timestamp' in epoch microseconds, volume from 'volume'; 6 columns, 6 used"],
        ),
        (
            "Date,Open,High,Low,Close,Quote_Volume,Volume\n"
            "2024-01-01,42283.58,44184.1,42180.77,44179.55,1191826424.5,27174.29903\n"
            "2024-01-02,44179.55,45879.63,44148.34,44946.91,2013006542.2,65146.40661\n",
            "BTC/USDT",
            "1d",
            lambda f: int(pd.Timestamp(f, tz="UTC").value // 1_000_000),
            6,
            [
                "read time from 'Date' in ISO-8601, volume from 'Volume' ('Quote_Volume', the quote volume, "
                "not used); 7 columns, 6 used"
            ],
        ),
        (
            "time,open,high,low,close,volume_btc,volume_usdt\n"
            "2024-01-01T00:00:00Z,1,2,0.5,1.5,3,4.5\n2024-01-01T01:00:00Z,1.5,2.5,1,2,4,8\n",
            "BTC/USDT",
            "1h",
            lambda f: int(pd.Timestamp(f).value // 1_000_000),
            5,
            [
                "read time from 'time' in ISO-8601, volume from 'volume_btc' ('volume_usdt', the quote "
                "volume, not used); 7 columns, 6 used"
            ],
        ),
    ],
    ids=[
        "binance-ms",
        "binance-us",
        "binance-header",
        "cdd-ms",
        "cdd-s",
        "cdd-mixed",
        "seconds",
        "micro",
        "date-alias",
        "named-volumes",
    ],
)
def test_published_candle_files_import_exactly(
    mt: MT,
    db_url: str,
    tmp_path: Path,
    text: str,
    symbol: str,
    timeframe: str,
    to_ms: Any,
    volume: int,
    said: list[str],
) -> None:
    import csv

    src = tmp_path / "in.csv"
    src.write_text(text, newline="")
    report = mt.json("data", "import", str(src), "--symbol", symbol, "--timeframe", timeframe)
    assert report["notes"] == said
    # what the file held, oldest first, with the time field converted by the case's own rule
    rows = [row for row in csv.reader(text.splitlines()) if row and row[0][:1].isdigit()]
    prices = (3, 4, 5, 6) if "CryptoDataDownload" in text else (1, 2, 3, 4)  # after date and symbol there
    held = sorted((to_ms(row[0]), *(float(row[i]) for i in (*prices, volume))) for row in rows)
    out = tmp_path / "out.csv"
    mt.json("data", "export", symbol, "--timeframe", timeframe, "--out", str(out), "--time-format", "ms")
    stored = [
        (int(row[0]), *(float(value) for value in row[1:]))
        for row in csv.reader(out.read_text().splitlines()[1:])
    ]
    assert report["rows"] == len(held) and stored == held
    # the text output says the same
    result = mt("data", "import", str(src), "--symbol", symbol, "--timeframe", timeframe)
    assert result.exit_code == 0
    for note in said:
        assert note in " ".join(result.stderr.split()), result.stderr


def test_the_documented_file_is_read_without_notes(mt: MT, db_url: str, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(GOOD)
    report = mt.json("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert report["notes"] == []
    assert report["read_as"] == {
        "layout": "header",
        "skipped_line": None,
        "time_column": "timestamp",
        "time_format": "iso+ms",
        "volume_column": "volume",
        "columns": 6,
        "used": 6,
        "newest_first": False,
    }


@pytest.mark.parametrize(
    ("body", "args", "reason"),
    [
        # a quote volume is not a base volume: refused, naming the column
        (
            "timestamp,open,high,low,close,Volume USDT\n2024-01-01T00:00:00Z,1,2,0.5,1,1\n",
            (),
            "column 'Volume USDT' is the quote volume .*no base volume",
        ),
        (
            "timestamp,open,high,low,close,volume_usdt\n2024-01-01T00:00:00Z,1,2,0.5,1,1\n",
            (),
            "column 'volume_usdt' is the quote volume",
        ),
        (
            "timestamp,open,high,low,close,quote_volume\n2024-01-01T00:00:00Z,1,2,0.5,1,1\n",
            (),
            "column 'quote_volume' is the quote volume",
        ),
        (
            "timestamp,open,high,low,close,Volume ETH,Volume USDT\n2024-01-01T00:00:00Z,1,2,0.5,1,1,1\n",
            (),
            "column 'Volume ETH' .*neither BTC nor USDT",
        ),
        (
            "timestamp,open,high,low,close,volume,Volume BTC\n2024-01-01T00:00:00Z,1,2,0.5,1,1,1\n",
            (),
            "columns 'volume' and 'Volume BTC' are both a base volume",
        ),
        # rows in neither order: still refused, naming the line
        (
            HEADER + "2024-01-01T02:00:00Z,1,2,0.5,1,1\n2024-01-01T00:00:00Z,1,2,0.5,1,1\n"
            "2024-01-01T01:00:00Z,1,2,0.5,1,1\n",
            (),
            "line 3: timestamp 2024-01-01T00:00:00Z does not come after .* 2024-01-01T02:00:00Z",
        ),
        # newest first and then a second row of one time with other values: not newest first, refused
        (
            HEADER + "2024-01-01T01:00:00Z,1,2,0.5,1,1\n2024-01-01T00:00:00Z,1,2,0.5,1,1\n"
            "2024-01-01T00:00:00Z,1,2,0.5,1,2\n",
            (),
            "line 3: timestamp 2024-01-01T00:00:00Z does not come after",
        ),
        # units mixed in a CryptoDataDownload file are read only where its dates say the same times
        (
            "https://www.CryptoDataDownload.com\n"
            + "\n".join([*_CDD_MIXED[:3], _CDD_MIXED[3].replace("2023-12-31", "2023-12-30")])
            + "\n",
            ("--symbol", "BTC/USD", "--timeframe", "1d"),
            "line 5: Unix Timestamp '1703980800' is 2023-12-31T00:00:00Z as epoch seconds, but its date says "
            "'2023-12-30 00:00:00'",
        ),
        # a file whose rows name their market is stored only under that market
        (
            "https://www.CryptoDataDownload.com\n" + _CDD_HEADER + "\n".join(_CDD_1H_MS) + "\n",
            ("--symbol", "BTC/USD"),
            "line 3: symbol 'BTCUSDT' is not --symbol BTC/USD: is the file for another market",
        ),
        (
            "https://www.CryptoDataDownload.com\n"
            + _CDD_HEADER
            + "\n".join([*_CDD_1H_MS[:2], _CDD_1H_MS[2].replace("BTCUSDT", "ETHUSDT")])
            + "\n",
            (),
            "line 5: symbol 'ETHUSDT' is not --symbol BTC/USDT: one market per file",
        ),
        # a first line that is not a table is skipped only in the CryptoDataDownload shape
        (
            "https://example.com/candles\n" + HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1,1\n",
            (),
            "missing column",
        ),
        # twelve numbers per row whose close_time is not within the bar: not a Binance kline file
        (
            "\n".join(_BINANCE_1H_MS) + "\n",
            ("--timeframe", "1m"),
            "line 1: close_time 1704070799999 is not within the 1m bar .*open_time 1704067200000",
        ),
        (
            "\n".join(row.replace(",1704070799999,", ",1704067200000,") for row in _BINANCE_1H_MS) + "\n",
            (),
            "line 1: close_time 1704067200000 is not within the 1h bar",
        ),
        # the unit said overrides the size, and what it gives is still checked
        (
            HEADER + "1704067200000,1,2,0.5,1,1\n",
            ("--time-unit", "s"),
            "after the year 9999 as epoch seconds",
        ),
        (HEADER + "1704067200000,1,2,0.5,1,1\n", ("--time-unit", "ns"), "invalid --time-unit 'ns'"),
    ],
)
def test_published_shapes_refused_whole(
    mt: MT, db_url: str, tmp_path: Path, body: str, args: tuple[str, ...], reason: str
) -> None:
    import re

    bad = tmp_path / "bad.csv"
    bad.write_text(body)
    options = {"--symbol": "BTC/USDT", "--timeframe": "1h"}
    options.update(dict(zip(args[::2], args[1::2], strict=True)))
    result = mt("data", "import", str(bad), *(part for pair in options.items() for part in pair))
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("mt: error: ")
    assert re.search(reason, result.stderr), result.stderr
    assert mt.json("data", "list") == []


def test_time_unit_reads_old_epoch_milliseconds(mt: MT, db_url: str, tmp_path: Path) -> None:
    """Millisecond stamps before 2001 have no size of their own: refused, then read as --time-unit says."""
    src = tmp_path / "old.csv"
    src.write_text(HEADER + "946684800000,1,2,0.5,1.5,3\n946688400000,1.5,2.5,1,2,4\n")
    refused = mt("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert refused.exit_code == 2 and "pass --time-unit s, ms or us" in refused.stderr
    report = mt.json(
        "data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h", "--time-unit", "ms"
    )
    assert report["first"] == "2000-01-01T00:00:00Z" and report["rows"] == 2
    assert report["notes"] == [
        "read time from 'timestamp' in epoch milliseconds (--time-unit), volume from 'volume'; 6 columns, "
        "6 used"
    ]


def test_rfc3339_lower_case_t_and_z_are_read(mt: MT, db_url: str, tmp_path: Path) -> None:
    src = tmp_path / "lower.csv"
    src.write_text(GOOD.replace("T", "t").replace("Z", "z").replace("timestamp,", "TIMESTAMP,"))
    report = mt.json("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert report["rows"] == 3 and report["first"] == "2024-01-01T00:00:00Z"
    assert report["last"] == "2024-01-01T02:00:00Z"
    # lower case is no zone of its own: mixed with unzoned times it is refused as any zone is
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(HEADER + "2024-01-01t00:00:00z,1,2,0.5,1,1\n2024-01-01t01:00:00,1,2,0.5,1,1\n")
    result = mt("data", "import", str(mixed), "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert (
        result.exit_code == 2 and "line 3: timestamp '2024-01-01t01:00:00' has no UTC offset" in result.stderr
    )


def test_an_export_gets_the_permissions_of_a_file_the_user_writes(
    mt: MT, db_url: str, tmp_path: Path
) -> None:
    import os

    src = tmp_path / "in.csv"
    src.write_text(GOOD)
    mt.json("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    previous = os.umask(0o022)
    try:
        out = tmp_path / "out.csv"
        mt.json("data", "export", "BTC/USDT", "--timeframe", "1h", "--out", str(out))
        assert (
            out.stat().st_mode & 0o777 == 0o644
        )  # was 0600: others (a spreadsheet's user) could not read it
        out.chmod(0o640)
        mt.json("data", "export", "BTC/USDT", "--timeframe", "1h", "--out", str(out), "--force")
        assert out.stat().st_mode & 0o777 == 0o640  # --force keeps the replaced file's
    finally:
        os.umask(previous)


def test_epoch_times_written_as_floats_are_read(mt: MT, db_url: str, tmp_path: Path) -> None:
    src = tmp_path / "floats.csv"
    src.write_text(
        HEADER + "1704067200.0,1,2,0.5,1.5,10\n1704070800.000,1,2,0.5,1.5,10\n1704074400,1,2,0.5,1.5,10\n"
    )
    report = mt.json("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert report["rows"] == 3 and (report["first"], report["last"]) == (
        "2024-01-01T00:00:00Z",
        "2024-01-01T02:00:00Z",
    )
    # a fraction of a second is still no bar's open time
    src.write_text(HEADER + "1704067200.5,1,2,0.5,1.5,10\n")
    result = mt("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert result.exit_code == 2 and "line 2: timestamp '1704067200.5'" in result.stderr


@pytest.mark.parametrize("newest_first", [False, True])
def test_a_row_repeating_the_one_before_exactly_is_dropped_with_a_note(
    tmp_path: Path, newest_first: bool
) -> None:
    """Two exports joined at a shared bar repeat it: the same bar, so the repeat is dropped (named in a
    note); it used to refuse the whole file ("does not come after the previous row's")."""
    rows = [f"2024-01-01T0{hour}:00:00Z,{hour + 1},{hour + 2},{hour + 0.5},{hour + 1},1" for hour in range(4)]
    rows.insert(3, rows[2])
    if newest_first:
        rows.reverse()
    path = tmp_path / "joined.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n")
    candles = read_candle_csv(path, "1h")
    assert candles.ts.tolist() == [1704067200000 + hour * 3_600_000 for hour in range(4)]
    repeat = 4 if newest_first else 5  # the second of the two rows, as the file has them
    assert f"dropped 1 row repeating the row before exactly (line {repeat})" in candles.notes


def test_a_second_row_of_one_time_with_other_values_is_refused_naming_both(tmp_path: Path) -> None:
    path = tmp_path / "conflict.csv"
    path.write_text(HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1,1\n2024-01-01T00:00:00Z,1,2,0.5,1.5,1\n")
    with pytest.raises(
        DataValidationError,
        match="line 3: a second row for 2024-01-01T00:00:00Z, with other values than line 2's",
    ):
        read_candle_csv(path, "1h")


def test_utc_in_words_is_read_and_a_time_unit_for_iso_text_is_refused(tmp_path: Path) -> None:
    """`2024-01-01 00:00:00 UTC` (a database's or an exchange's export) was refused as neither ISO-8601 nor
    epoch; `--time-unit ms` on ISO text was ignored without a word."""
    path = tmp_path / "utc.csv"
    path.write_text(HEADER + "2024-01-01 00:00:00 UTC,1,2,0.5,1,1\n2024-01-01 01:00:00 gmt,1,2,0.5,1,1\n")
    assert read_candle_csv(path, "1h").ts.tolist() == [1704067200000, 1704070800000]
    with pytest.raises(DataValidationError, match="is ISO-8601 text, not epoch milliseconds: --time-unit ms"):
        read_candle_csv(path, "1h", time_unit="ms")


def test_an_older_cryptodatadownload_file_without_a_unix_column_is_read(tmp_path: Path) -> None:
    """CryptoDataDownload's older files have no unix column (``Date,Symbol,Open,...``): their credit line
    was taken for the header, and the file was refused as missing every column, the time included."""
    src = tmp_path / "Bitstamp_BTCUSD_d.csv"
    src.write_text(
        "https://www.CryptoDataDownload.com\r\n"
        "Date,Symbol,Open,High,Low,Close,Volume BTC,Volume USD\r\n"
        "2020-03-14,BTCUSD,5050,5200,4900,5100,12,60000\r\n"
        "2020-03-13,BTCUSD,5000,5100,4900,5050,10,50000\r\n",
        newline="",
    )
    candles = read_candle_csv(src, "1d", symbol="BTC/USD")
    assert candles.rows() == [
        (1584057600000, 5000.0, 5100.0, 4900.0, 5050.0, 10.0),
        (1584144000000, 5050.0, 5200.0, 4900.0, 5100.0, 12.0),
    ]
    assert candles.notes == (
        "skipped a first line: https://www.CryptoDataDownload.com",
        "read time from 'Date' in ISO-8601, volume from 'Volume BTC' ('Volume USD', the quote volume, not "
        "used); 8 columns, 6 used",
        "rows were newest first: stored oldest first",
    )
    # their hourly files write the hour as 08-PM: refused naming it, no longer as a missing header
    src.write_text(
        "https://www.CryptoDataDownload.com\nDate,Symbol,Open,High,Low,Close,Volume BTC,Volume USD\n"
        "2020-03-13 08-PM,BTCUSD,5000,5100,4900,5050,10,50000\n"
    )
    with pytest.raises(DataValidationError, match="line 3: timestamp '2020-03-13 08-PM' is neither"):
        read_candle_csv(src, "1h", symbol="BTC/USD")


# The engines trade whole 1e-8 units of the asset with at most MAX_CASH: a price whose unit costs more
# than COARSE_SHARE of that cash, or so small that the count of units it buys is past floating point,
# cannot be traded meaningfully, so the import refuses it rather than store it.
@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("2024-01-01T01:00:00Z,1e-320,1e-320,1e-320,1e-320,1", "line 3: open 1e-320 is below"),
        ("2024-01-01T01:00:00Z,1,1e300,1,1,1", "line 3: high 1e+300 is above"),
        ("2024-01-01T01:00:00Z,2e17,2e17,2e17,2e17,1", "line 3: open 2e+17 is above"),
    ],
)
def test_prices_the_engines_cannot_trade_are_refused(
    mt: MT, db_url: str, tmp_path: Path, row: str, needle: str
) -> None:
    from mastertrade.engine.backtest.result import FRACTIONAL_UNIT, MAX_CASH
    from mastertrade.engine.backtest.unit_cost import COARSE_SHARE, PRICE_RANGE

    low, high = PRICE_RANGE
    assert high == MAX_CASH * COARSE_SHARE / FRACTIONAL_UNIT
    assert MAX_CASH / (low * FRACTIONAL_UNIT) < float("inf")  # the count of units is still a number
    src = tmp_path / "bad.csv"
    src.write_text(HEADER + "2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n" + row + "\n")
    result = mt("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith("mt: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert needle in result.stderr
    assert (f"{low:.3g}" if "below" in needle else f"{high:g}") in result.stderr
    assert mt.json("data", "list") == []


def test_prices_at_the_engines_bounds_are_imported(mt: MT, db_url: str, tmp_path: Path) -> None:
    from mastertrade.engine.backtest.unit_cost import PRICE_RANGE

    low, high = PRICE_RANGE
    src = tmp_path / "edge.csv"
    src.write_text(
        HEADER
        + f"2024-01-01T00:00:00Z,{low!r},{low * 2!r},{low!r},{low!r},1\n"
        + "2024-01-01T01:00:00Z,0.00000123,0.00000125,0.0000012,0.00000124,1e12\n"
        + f"2024-01-01T02:00:00Z,{high / 2!r},{high!r},{high / 2!r},{high!r},1\n"
    )
    report = mt.json("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert report["rows"] == 3


def test_bars_missing_inside_the_file_are_counted_and_named(mt: MT, db_url: str, tmp_path: Path) -> None:
    hours = [0, 1, 2, 5, 6, 10]  # 03:00..04:00 and 07:00..09:00 missing: 5 bars in 2 gaps
    src = tmp_path / "holes.csv"
    src.write_text(HEADER + "".join(f"2024-01-01T{h:02d}:00:00Z,1,2,0.5,1.5,10\n" for h in hours))
    report = mt.json("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert report["rows"] == 6
    assert report["missing"] == 5 and report["gap_count"] == 2
    assert report["gaps"] == [
        {"start": "2024-01-01T03:00:00Z", "end": "2024-01-01T04:00:00Z"},
        {"start": "2024-01-01T07:00:00Z", "end": "2024-01-01T09:00:00Z"},
    ]
    result = mt("data", "import", str(src), "--symbol", "ETH/USDT", "--timeframe", "1h")
    assert result.exit_code == 0, result.stderr
    said = " ".join(result.stderr.split())
    assert "5 bars missing in 2 gap(s)" in said and "2024-01-01T03:00:00Z .. 2024-01-01T04:00:00Z" in said
    whole = tmp_path / "whole.csv"
    whole.write_text(GOOD)
    report = mt.json("data", "import", str(whole), "--symbol", "X/Y", "--timeframe", "1h")
    assert report["missing"] == 0 and report["gap_count"] == 0 and report["gaps"] == []
