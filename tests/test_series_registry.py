"""A series `mt data delete` empties is no longer listed. `mt data delete SYMBOL --yes` deleted the
candles and kept the series' row, so `mt data list` went on listing a "ghost" with 0 rows and no first
or last bar. Now the emptied series' row goes with its last candle, which loses nothing: the row holds
only the series' names, its candles are the only rows that refer to it by id (checked here, so a table
that starts referring to it makes this test say so), and what names the series (a strategy, the trial
registry, features) finds it again once it is stored anew."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import MT

HEADER = "timestamp,open,high,low,close,volume\n"
END = "2026-01-01T00:00:00Z"


def test_only_candles_refer_to_a_series_row() -> None:
    from sqlmodel import SQLModel

    import mastertrade.db.models  # noqa: F401  (every table on the metadata)

    referring = sorted(
        f"{table.name}.{key.parent.name}"
        for table in SQLModel.metadata.sorted_tables
        for key in table.foreign_keys
        if key.column.table.name == "series"
    )
    assert referring == ["candles.series_id"]


def test_a_whole_series_deleted_is_no_longer_listed_and_its_strategy_finds_it_again(
    mt: MT, db_url: str, tmp_path: Path
) -> None:
    args = ("--timeframe", "1h", "--bars", "300", "--seed", "3", "--end", END)
    mt.json("data", "sim", "BTC/USDT", *args)
    mt.json("data", "sim", "ETH/USDT", *args)
    added = mt.json("strategy", "add", "sma_cross", "--symbol", "ETH/USDT", "--timeframe", "1h")

    deleted = mt("data", "delete", "ETH/USDT", "--timeframe", "1h", "--yes")
    assert deleted.exit_code == 0, deleted.output
    assert "deleted 300 candles of sim:ETH/USDT:1h; none left, so it is no longer listed" in " ".join(
        deleted.stderr.split()
    )
    listed = mt.json("data", "list")
    assert [row["symbol"] for row in listed] == ["BTC/USDT"]  # ETH/USDT was listed with 0 rows
    table = mt("data", "list")
    assert table.exit_code == 0 and "ETH/USDT" not in table.stdout

    # nothing that names the series was lost: stored again, it is found again by its strategy
    assert mt.json("strategy", "show", added["id"])["genome"]["symbol"] == "ETH/USDT"
    mt.json("data", "sim", "ETH/USDT", *args)
    backtest = mt.json("backtest", added["id"])
    assert backtest["symbol"] == "ETH/USDT" and backtest["bars"] > 0


def test_a_range_deleted_keeps_the_series_listed_with_what_is_left(
    mt: MT, db_url: str, tmp_path: Path
) -> None:
    rows = "".join(f"2024-01-01T0{h}:00:00Z,{100 + h},{101 + h},{99 + h},{100 + h},1\n" for h in range(4))
    src = tmp_path / "in.csv"
    src.write_text(HEADER + rows)
    mt.json("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")
    done = mt.json(
        "data", "delete", "BTC/USDT", "--timeframe", "1h", "--since", "2024-01-01T02:00:00Z", "--yes"
    )
    assert done["left"] == 2
    (series,) = mt.json("data", "list")
    assert series["rows"] == 2 and series["last"] == "2024-01-01T01:00:00Z"
    # a range that takes the last candles empties the series: it goes too
    assert (
        mt.json("data", "delete", "BTC/USDT", "--timeframe", "1h", "--until", "2024-01-02", "--yes")["left"]
        == 0
    )
    assert mt.json("data", "list") == []


def test_an_empty_series_kept_by_an_earlier_version_is_listed_as_having_no_candles(
    mt: MT, db_url: str
) -> None:
    """An earlier version's `mt data delete` left such rows: listed honestly until filled again."""
    import asyncio

    from mastertrade.config import load_settings
    from mastertrade.db.database import Database
    from mastertrade.engine.market.store import CandleStore, SeriesKey

    async def register() -> None:
        db = await Database.open(load_settings())
        try:
            await CandleStore(db).series_id(SeriesKey("csv", "BTC/USDT", "1h"), create=True)
        finally:
            await db.close()

    asyncio.run(register())
    (series,) = mt.json("data", "list")
    assert series["rows"] == 0 and series["first"] is None
    table = mt("data", "list")
    assert table.exit_code == 0 and "(no candles)" in table.stdout
