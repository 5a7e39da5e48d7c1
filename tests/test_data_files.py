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
