"""``mt data import`` of candle files as traders put them together: Binance kline files of 2024 (epoch
milliseconds) and of 2025 (microseconds, spot) joined in one, files joined with their headers, JSON
saved from ccxt, and spreadsheets' trailing rows of empty cells. Each is read exactly or refused in one
line naming the line, and nothing is written."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.conftest import MT

_HOUR_MS = 3_600_000
_FIRST_MS = 1_735_686_000_000  # 2024-12-31T23:00:00Z: the last bar Binance's spot files give in ms
_BINANCE_HEADER = (
    "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,"
    "taker_buy_quote_volume,ignore"
)


def _kline(open_ms: int, per_ms: int, close: float) -> str:
    """One Binance kline row of a 1h bar, its open and close times in epoch ms * ``per_ms``."""
    opened, closed = open_ms * per_ms, (open_ms + _HOUR_MS) * per_ms - 1
    return (
        f"{opened},{close - 10:.8f},{close + 25:.8f},{close - 30:.8f},{close:.8f},12.50000000,"
        f"{closed},1170000.00000000,1000,6.25000000,585000.00000000,0"
    )


def _joined(units: list[int]) -> list[str]:
    """Rows of consecutive 1h bars from 2024-12-31T23:00Z, the i-th in epoch ms * ``units[i]``."""
    return [_kline(_FIRST_MS + i * _HOUR_MS, per_ms, 93_000 + i) for i, per_ms in enumerate(units)]


def _one_line(result: object, *needles: str) -> None:
    stderr = result.stderr  # type: ignore[attr-defined]
    assert result.exit_code == 2, stderr  # type: ignore[attr-defined]
    assert stderr.startswith("mt: error: ") and stderr.count("\n") == 1, stderr
    for needle in needles:
        assert needle in " ".join(stderr.split()), stderr


_READ_AS = (
    " epoch milliseconds and epoch microseconds (from line {switch} on), each row's unit told by its size and"
    " confirmed by its close_time"
)
_PYTHON_BINANCE = (  # the names python-binance's users give Binance's columns
    "Open time,Open,High,Low,Close,Volume,Close time,Quote asset volume,Number of trades,"
    "Taker buy base asset volume,Taker buy quote asset volume,Ignore"
)


@pytest.mark.parametrize(
    ("header", "crlf", "said"),
    [
        (None, False, "read as a Binance kline file without a header, timestamps in" + _READ_AS),
        (_BINANCE_HEADER, False, "read as a Binance kline file with its header, timestamps in" + _READ_AS),
        (None, True, "read as a Binance kline file without a header, timestamps in" + _READ_AS),
        # (the header in capitals ended in KeyError: 'close_time')
        (
            _BINANCE_HEADER.upper(),
            False,
            "read as a Binance kline file with its header, timestamps in" + _READ_AS,
        ),
        (
            _PYTHON_BINANCE,
            False,
            "read time from 'Open time' in"
            + _READ_AS
            + ", volume from 'Volume' ('Quote asset volume', the quote volume, not used)",
        ),
    ],
    ids=["no-header", "header", "crlf", "header-in-capitals", "python-binance-names"],
)
def test_binance_files_of_2024_and_2025_joined_import_exactly(
    mt: MT, db_url: str, tmp_path: Path, header: str | None, crlf: bool, said: str
) -> None:
    """A 2024 file (ms) and a 2025 spot file (us) joined were refused as "one unit per file", with the
    advice to pass --time-unit, which refused them too: each row's unit is now told by its size and
    confirmed by its close_time, and every bar lands at its own hour."""
    rows = _joined([1, 1000, 1000])
    text = "\n".join([header, *rows] if header else rows) + "\n"
    src = tmp_path / "BTCUSDT-1h-joined.csv"
    src.write_bytes(text.replace("\n", "\r\n").encode() if crlf else text.encode())
    report = mt.json("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert report["read_as"]["time_format"] == "ms+us"
    assert report["notes"] == [said.format(switch=3 if header else 2) + "; 12 columns, 6 used"]
    assert report["rows"] == 3
    assert (report["first"], report["last"]) == ("2024-12-31T23:00:00Z", "2025-01-01T01:00:00Z")
    out = tmp_path / "out.csv"
    mt.json("data", "export", "BTC/USDT", "--timeframe", "1h", "--out", str(out), "--time-format", "ms")
    stored = [row[:2] for row in csv.reader(out.read_text().splitlines()[1:])]
    assert stored == [[str(_FIRST_MS + i * _HOUR_MS), f"{92_990 + i}.0"] for i in range(3)]
    checked = mt.json("data", "check", "BTC/USDT", "--timeframe", "1h")
    assert checked["ok"] and checked["missing"] == 0 and checked["rows"] == 3


@pytest.mark.parametrize(
    ("units", "said"),
    [
        # a futures file (milliseconds still) after spot ones
        (
            [1, 1000, 1],
            "line 3: timestamp '1735693200000' is 2025-01-01T01:00:00Z in epoch milliseconds, among",
        ),
        # microseconds before 2025: not as Binance writes its files
        ([1000, 1, 1], "line 1: timestamp '1735686000000000' is 2024-12-31T23:00:00Z in epoch microseconds"),
    ],
)
def test_binance_units_not_where_binance_writes_them_are_refused(
    mt: MT, db_url: str, tmp_path: Path, units: list[int], said: str
) -> None:
    """Milliseconds before 2025-01-01 and microseconds from then on are Binance's spot files joined; any
    other mix is files of two markets (or not Binance's), refused naming the first row out of place."""
    src = tmp_path / "joined.csv"
    src.write_text("\n".join(_joined(units)) + "\n")
    result = mt("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    _one_line(result, said, "files of two markets joined?")
    assert mt.json("data", "list") == []


def test_mixed_units_without_a_close_time_are_refused_without_a_useless_hint(
    mt: MT, db_url: str, tmp_path: Path
) -> None:
    """In a file that has no close_time nor date to confirm each row's unit, two units stay refused; the
    advice to pass --time-unit (which reads one unit, so refused the other rows too) is gone."""
    src = tmp_path / "joined.csv"
    src.write_text(
        "timestamp,open,high,low,close,volume\n"
        f"{_FIRST_MS},1,2,0.5,1.5,3\n{(_FIRST_MS + _HOUR_MS) * 1000},1.5,2.5,1,2,4\n"
    )
    result = mt("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    _one_line(result, "line 3: timestamp '1735689600000000' is in epoch microseconds", "one unit per file")
    assert "--time-unit" not in result.stderr
    assert mt.json("data", "list") == []


@pytest.mark.parametrize("first_header", [True, False])
def test_a_header_line_among_the_rows_is_named(
    mt: MT, db_url: str, tmp_path: Path, first_header: bool
) -> None:
    """Binance's futures files carry a header: joined with ``cat`` one comes among the rows, which was
    refused as "open 'open' is not a number"."""
    rows = _joined([1, 1, 1])
    lines = [*([_BINANCE_HEADER] if first_header else []), *rows[:2], _BINANCE_HEADER, rows[2]]
    src = tmp_path / "joined.csv"
    src.write_text("\n".join(lines) + "\n")
    result = mt("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    number = 4 if first_header else 3
    _one_line(result, f"line {number} is a header line among the rows (files joined with their headers?)")
    assert mt.json("data", "list") == []


def test_json_is_refused_as_json(mt: MT, db_url: str, tmp_path: Path) -> None:
    """ccxt's fetch_ohlcv lists saved as JSON were refused as a CSV missing every column."""
    src = tmp_path / "ohlcv.json"
    src.write_text("[[1735686000000, 93000.0, 93050.0, 92950.0, 93010.0, 12.5]]\n")
    result = mt("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    _one_line(result, "ohlcv.json: JSON, not a CSV", "timestamp,open,high,low,close,volume")
    assert mt.json("data", "list") == []


def test_rows_of_empty_cells_at_the_end_are_ignored(mt: MT, db_url: str, tmp_path: Path) -> None:
    """A spreadsheet saves the rows below the data it once formatted as lines of commas: the file was
    refused as "line 4 is blank"; like blank lines at the end, they hold no bar."""
    src = tmp_path / "tradingview.csv"
    src.write_text(
        "time,open,high,low,close,Volume\n"
        "2024-12-31T23:00:00Z,1,2,0.5,1.5,3\n2025-01-01T00:00:00Z,1.5,2.5,1,2,4\n,,,,,\r\n , , ,,,\n"
    )
    report = mt.json("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert report["rows"] == 2 and report["last"] == "2025-01-01T00:00:00Z"


def test_a_time_unit_that_makes_a_time_of_1970_is_refused(mt: MT, db_url: str, tmp_path: Path) -> None:
    """--time-unit us on a Binance file of before 2025 (milliseconds) read 2023-12-31T22:00:00Z as
    1970-01-20T17:21:00Z, on the 1m grid: a file of that one row was stored there silently."""
    src = tmp_path / "BTCUSDT-1m-2023-12-31.csv"
    src.write_text("1704060000000,42000,42010,41990,42005,1.5,1704060059999,63000,10,0.75,31500,0\n")
    result = mt("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1m", "--time-unit", "us")
    _one_line(
        result,
        "line 1: timestamp '1704060000000' is 1970-01-20T17:21:00Z as epoch microseconds (--time-unit us), "
        "but 2023-12-31T22:00:00Z as epoch milliseconds, as its size says",
    )
    assert mt.json("data", "list") == []


def test_binance_open_times_written_as_floats_are_read(mt: MT, db_url: str, tmp_path: Path) -> None:
    """A kline file saved back by pandas writes 1735686000000.0 where a cell had been blank: read as
    such times are in other files; a Binance file's close_time check ended in a ValueError traceback."""
    rows = [row.replace(",", ".0,", 1) for row in _joined([1, 1])]
    src = tmp_path / "saved.csv"
    src.write_text("\n".join([_BINANCE_HEADER, *rows]) + "\n")
    report = mt.json("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert (report["rows"], report["first"]) == (2, "2024-12-31T23:00:00Z")


def test_a_binance_header_in_capitals_is_read(mt: MT, db_url: str, tmp_path: Path) -> None:
    """Header names are read in any case; Binance's in capitals (one unit) ended in KeyError: 'close_time'."""
    src = tmp_path / "upper.csv"
    src.write_text("\n".join([_BINANCE_HEADER.upper(), *_joined([1, 1])]) + "\n")
    report = mt.json("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert report["rows"] == 2 and report["read_as"]["layout"] == "binance"


def test_epoch_nanoseconds_are_refused_as_such(mt: MT, db_url: str, tmp_path: Path) -> None:
    """Times kept as int64 nanoseconds (19 digits) were "neither ISO-8601 nor an epoch time"."""
    src = tmp_path / "ns.csv"
    src.write_text("timestamp,open,high,low,close,volume\n1735686000000000000,1,2,0.5,1.5,3\n")
    result = mt("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    _one_line(result, "line 2: timestamp '1735686000000000000'", "(epoch nanoseconds? they are not read")
    assert mt.json("data", "list") == []
