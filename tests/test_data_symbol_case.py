"""A symbol typed in any case (``btc/usdt``, ``Btc/Usdt``) names the stored upper-case series in every
``mt data`` command, in ``mt backtest`` and ``mt generate``: never a second series, never "no candles"."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mastertrade.engine.market.store import CandleStore, SeriesKey
from tests.conftest import MT

CSV = (
    "timestamp,open,high,low,close,volume\n"
    "2024-01-01T00:00:00Z,1,2,0.5,1.5,3\n"
    "2024-01-01T01:00:00Z,1.5,2.5,1,2,4\n"
    "2024-01-01T02:00:00Z,2,2.5,1.5,2.25,5\n"
)


def _store_bar(*keys: SeriesKey) -> None:
    """One bar in each series, written as an older version did: under the symbol as it was typed."""

    async def write() -> None:
        from mastertrade.cli.runtime import open_db

        db = await open_db()
        try:
            for key in keys:
                await CandleStore(db).upsert(key, [(1_704_067_200_000, 1.0, 2.0, 0.5, 1.5, 3.0)])
        finally:
            await db.close()

    asyncio.run(write())


def _series(mt: MT) -> list[tuple[str, str, str, int]]:
    return [(s["exchange"], s["symbol"], s["timeframe"], s["rows"]) for s in mt.json("data", "list")]


def test_sim_in_any_case_writes_the_one_upper_case_series(mt: MT, db_url: str) -> None:
    lower = mt.json("data", "sim", "btc/usdt", "--bars", "50", "--end", "2024-03-01")
    upper = mt.json("data", "sim", "BTC/USDT", "--bars", "50", "--end", "2024-03-01")
    assert lower[0]["series"] == upper[0]["series"] == "sim:BTC/USDT:1h"
    assert lower[0]["last_close"] == upper[0]["last_close"]  # the same market, the same prices
    assert upper[0]["replaced"] == 50
    assert _series(mt) == [("sim", "BTC/USDT", "1h", 50)]


def test_import_export_check_delete_find_the_series_in_any_case(mt: MT, db_url: str, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(CSV)
    assert mt.json("data", "import", str(src), "--symbol", "btc/usdt", "--timeframe", "1h")["series"] == (
        "csv:BTC/USDT:1h"
    )
    again = mt.json("data", "import", str(src), "--symbol", " Btc/Usdt ", "--timeframe", "1h")
    assert again["series"] == "csv:BTC/USDT:1h" and again["new"] == 0 and again["replaced"] == 3
    out = tmp_path / "out.csv"
    assert mt.json("data", "export", "Btc/Usdt", "--timeframe", "1h", "--out", str(out))["rows"] == 3
    assert out.read_text().splitlines()[1:] == [
        "2024-01-01T00:00:00Z,1.0,2.0,0.5,1.5,3.0",
        "2024-01-01T01:00:00Z,1.5,2.5,1.0,2.0,4.0",
        "2024-01-01T02:00:00Z,2.0,2.5,1.5,2.25,5.0",
    ]
    assert mt.json("data", "check", "btc/USDT", "--timeframe", "1h")["series"] == "csv:BTC/USDT:1h"
    dry = mt.json("data", "delete", "btc/usdt", "--timeframe", "1h", "--since", "2024-01-01T02:00:00Z")
    assert dry == {"series": "csv:BTC/USDT:1h", "deleted": 0, "matched": 1, "left": None}
    done = mt.json(
        "data", "delete", "btc/usdt", "--timeframe", "1h", "--since", "2024-01-01T02:00:00Z", "--yes"
    )
    assert done["deleted"] == 1 and done["left"] == 2
    assert _series(mt) == [("csv", "BTC/USDT", "1h", 2)]
    # an exchange id is lower case (ccxt's) however typed
    other = mt.json(
        "data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h", "--exchange", "Binance"
    )
    assert other["series"] == "binance:BTC/USDT:1h"
    found = mt.json("data", "check", "BTC/USDT", "--timeframe", "1h", "--exchange", "BINANCE")
    assert found["series"] == "binance:BTC/USDT:1h"


def test_a_malformed_symbol_is_refused_naming_it(mt: MT, db_url: str, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(CSV)
    for typed, args in (
        ("btc /usdt", ("data", "import", str(src), "--timeframe", "1h", "--symbol")),
        ("btcusdt", ("data", "sim", "--bars", "10", "ETH/USDT")),
    ):
        result = mt(*args, typed)
        assert result.exit_code == 2, result.stderr
        assert f"invalid symbol {typed!r}: expected BASE/QUOTE" in result.stderr
    assert _series(mt) == []  # nothing written, not even the good symbol before the bad one


def test_a_series_stored_in_another_case_is_written_to_not_doubled(
    mt: MT, db_url: str, tmp_path: Path
) -> None:
    """Series stored by an older version under the spelling typed then (``btc/usdt``) are still found,
    and new candles go into them."""
    _store_bar(SeriesKey("csv", "btc/usdt", "1h"))
    src = tmp_path / "in.csv"
    src.write_text(CSV)
    report = mt.json("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    assert report["series"] == "csv:btc/usdt:1h" and report["new"] == 2
    assert _series(mt) == [("csv", "btc/usdt", "1h", 3)]
    out = tmp_path / "out.csv"
    assert mt.json("data", "export", "BTC/USDT", "--timeframe", "1h", "--out", str(out))["rows"] == 3
    _store_bar(SeriesKey("sim", "eth/usdt", "1h"))
    simulated = mt.json("data", "sim", "ETH/USDT", "--bars", "30")  # and its features, from that series
    assert simulated[0]["series"] == "sim:eth/usdt:1h" and simulated[0]["features"] > 0
    assert _series(mt) == [("csv", "btc/usdt", "1h", 3), ("sim", "eth/usdt", "1h", 30)]


def test_two_stored_spellings_are_not_guessed_between(mt: MT, db_url: str, tmp_path: Path) -> None:
    _store_bar(SeriesKey("csv", "btc/usdt", "1h"), SeriesKey("csv", "BTC/USDT", "1h"))
    for typed in ("BTC/USDT", "btc/usdt"):  # typed exactly: that one
        check = mt.json("data", "check", typed, "--timeframe", "1h")
        assert check["series"] == f"csv:{typed}:1h"
    result = mt("data", "check", "Btc/Usdt", "--timeframe", "1h")
    assert result.exit_code == 2
    assert "stored under several spellings (csv:BTC/USDT:1h, csv:btc/usdt:1h)" in result.stderr


def test_backtest_and_generate_find_the_series_and_name_it_as_stored(mt: MT, db_url: str) -> None:
    sim = ("data", "sim", "ETH/USDT", "--bars", "1500", "--seed", "5")
    assert mt(*sim, "--end", "2025-01-01").exit_code == 0  # fixed: what a search finds moves with the clock
    backtest = mt.json("backtest", "sma_cross", "--symbol", "eth/usdt", "--timeframe", "1h")
    assert backtest["bars"] == 1500
    run = mt.json(
        "generate", "--symbol", "eth/usdt", "--timeframe", "1h", "--count", "2", "--population", "6",
        "--generations", "1", "--seed", "3",
    )  # fmt: skip
    assert run["symbol"] == "ETH/USDT"
    listed = mt.json("strategy", "list")
    assert listed and {row["symbol"] for row in listed} == {"ETH/USDT"}


def test_a_symbol_wider_than_its_columns_is_refused_naming_it(mt: MT, db_url: str) -> None:
    """SQLite ignores a column's width and PostgreSQL refuses a longer value: a 33-character symbol was
    stored on SQLite and ended in a database traceback on PostgreSQL. Now it is bad input on both, and
    the longest allowed is stored on both."""
    typed = f"{'a' * 28}/usdt"
    for args in (
        ("data", "sim", "--bars", "10", "ETH/USDT", typed),
        ("strategy", "add", "sma_cross", "--timeframe", "1h", "--symbol", typed),
    ):
        result = mt(*args)
        assert result.exit_code == 2, result.output
        assert result.stderr == f"mt: error: invalid symbol {typed!r}: at most 32 characters (33 given)\n"
    assert _series(mt) == []
    longest = f"{'B' * 27}/USDT"
    assert mt("data", "sim", "--bars", "10", longest).exit_code == 0
    assert _series(mt) == [("sim", longest, "1h", 10)]


def test_the_limit_is_the_narrowest_column_a_symbol_is_stored_in() -> None:
    from sqlmodel import SQLModel

    import mastertrade.db.models  # noqa: F401  (registers every table)
    from mastertrade.engine.market.symbols import MAX_LENGTH

    widths = {
        f"{table.name}.{column.name}": getattr(column.type, "length", None)
        for table in SQLModel.metadata.tables.values()
        for column in table.columns
        if column.name == "symbol"
    }
    assert len(widths) > 5 and None not in widths.values(), widths
    assert min(widths.values()) == MAX_LENGTH, widths
