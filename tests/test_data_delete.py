"""``mt data delete``: the candles of one series, all or a range, only with --yes, never while the daemon
runs; a series emptied is no longer listed, and fills again. And ``mt data list`` survives a bar time no
calendar holds (microseconds stored as milliseconds by an import from before that was checked), so it can
be deleted."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.conftest import MT

HEADER = "timestamp,open,high,low,close,volume\n"


def _import(mt: MT, tmp_path: Path, hours: int = 6) -> None:
    rows = "".join(
        f"{1704067200000 + h * 3_600_000},{100 + h},{101 + h},{99 + h},{100.5 + h},1\n" for h in range(hours)
    )
    src = tmp_path / "in.csv"
    src.write_text(HEADER + rows)
    mt.json("data", "import", str(src), "--symbol", "BTC/USDT", "--timeframe", "1h")


def _rows(mt: MT) -> int:
    (series,) = mt.json("data", "list")
    return int(series["rows"])


def test_without_yes_it_says_what_it_would_delete_and_deletes_nothing(
    mt: MT, db_url: str, tmp_path: Path
) -> None:
    _import(mt, tmp_path)
    result = mt("data", "delete", "BTC/USDT", "--timeframe", "1h", "--since", "2024-01-01T04:00:00Z")
    assert result.exit_code == 0, result.output
    assert "would delete 2 candles of csv:BTC/USDT:1h" in result.stderr + result.stdout
    assert "add --yes" in result.stderr + result.stdout
    assert _rows(mt) == 6


def test_at_a_terminal_it_asks_and_deletes_only_what_it_named(
    mt: MT, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trader at a terminal is asked (no by default) instead of having to type the command again."""
    import mastertrade.cli.data.delete as delete

    monkeypatch.setattr(delete, "_interactive", lambda: True)
    _import(mt, tmp_path)
    args = ("data", "delete", "btc/usdt", "--timeframe", "1h", "--since", "2024-01-01T04:00:00Z")
    for answer in ("\n", "n\n"):
        kept = mt(*args, input=answer)
        assert kept.exit_code == 0, kept.output
        assert "delete 2 candles of csv:BTC/USDT:1h from 2024-01-01T04:00:00Z until the last? [y/N]" in (
            kept.stderr
        )
        assert "deleted nothing" in kept.stderr and _rows(mt) == 6
    done = mt(*args, input="y\n")
    assert done.exit_code == 0, done.output
    assert (
        "deleted 2 candles of csv:BTC/USDT:1h from 2024-01-01T04:00:00Z until the last; 4 left" in done.stderr
    )
    assert _rows(mt) == 4
    # a script's --json is one document and never waits for an answer
    assert mt.json(*args[:-2], "--until", "2024-01-01T01:00:00Z")["deleted"] == 0 and _rows(mt) == 4


def test_a_range_then_the_rest_then_the_series_fills_again(mt: MT, db_url: str, tmp_path: Path) -> None:
    _import(mt, tmp_path)
    done = mt.json(
        "data", "delete", "BTC/USDT", "--timeframe", "1h",
        "--since", "2024-01-01T01:00:00Z", "--until", "2024-01-01T03:00:00Z", "--yes",
    )  # fmt: skip
    assert done == {"series": "csv:BTC/USDT:1h", "deleted": 2, "matched": 2, "left": 4}
    exported = tmp_path / "left.csv"
    mt.json("data", "export", "BTC/USDT", "--timeframe", "1h", "--out", str(exported), "--time-format", "ms")
    stamps = [line.split(",")[0] for line in exported.read_text().splitlines()[1:]]
    assert stamps == [str(1704067200000 + h * 3_600_000) for h in (0, 3, 4, 5)]  # since inclusive, until not
    assert mt.json("data", "delete", "BTC/USDT", "--timeframe", "1h", "--yes")["deleted"] == 4
    assert mt.json("data", "list") == []  # was listed with 0 rows and no first or last bar
    _import(mt, tmp_path)
    assert _rows(mt) == 6


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--since", "2024-01-02", "--until", "2024-01-01"), "invalid --until '2024-01-01': must be after"),
        (("--since", "yesterday"), "invalid --since date 'yesterday'"),
        (("--timeframe", "7x"), "7x"),
    ],
)
def test_bad_input_is_one_line_and_deletes_nothing(
    mt: MT, db_url: str, tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    _import(mt, tmp_path)
    base = ["data", "delete", "BTC/USDT", "--yes"]
    if "--timeframe" not in args:
        base += ["--timeframe", "1h"]
    result = mt(*base, *args)
    assert result.exit_code == 2, result.output
    assert says in result.stderr and result.stderr.startswith("mt: error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert _rows(mt) == 6


def test_refused_while_the_daemon_runs(
    mt: MT, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mastertrade.engine.daemon as daemon

    _import(mt, tmp_path)
    monkeypatch.setattr(daemon, "running_pid", lambda where=None: 4242)
    result = mt("data", "delete", "BTC/USDT", "--timeframe", "1h", "--yes")
    assert result.exit_code == 2
    assert "the daemon is running (pid 4242)" in result.stderr and "mt daemon stop" in result.stderr
    assert _rows(mt) == 6


def test_a_bar_time_no_calendar_holds_is_listed_as_its_number_and_can_be_deleted(
    mt: MT, db_url: str, tmp_path: Path
) -> None:
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database
    from mastertrade.engine.market.store import CandleStore, SeriesKey

    micro = 1704067200000000  # 2024-01-01 in microseconds, stored as if milliseconds

    async def store() -> None:
        db = await Database.open(load_settings())
        try:
            await CandleStore(db).upsert(
                SeriesKey("csv", "BTC/USDT", "1h"), [(micro, 1.0, 2.0, 0.5, 1.0, 1.0)]
            )
        finally:
            await db.close()

    asyncio.run(store())
    (series,) = mt.json("data", "list")
    assert series["first"] == f"{micro} (epoch ms, not a date)"
    table = mt("data", "list")
    assert table.exit_code == 0 and "not a date" in table.stdout
    assert mt.json("data", "delete", "BTC/USDT", "--timeframe", "1h", "--yes")["deleted"] == 1


def test_epoch_seconds_are_refused_not_read_as_a_day_of_1970(mt: MT, db_url: str, tmp_path: Path) -> None:
    """`--since 1704081600` (epoch seconds of 2024-01-01T04:00Z) was read as milliseconds, 1970-01-20:
    with --yes every candle of the series was deleted; as --start of a backtest it was silently the
    whole series."""
    _import(mt, tmp_path)
    result = mt("data", "delete", "BTC/USDT", "--timeframe", "1h", "--since", "1704081600", "--yes")
    assert result.exit_code == 2
    assert result.stderr == (
        "mt: error: invalid --since date '1704081600': epoch seconds? (2024-01-01T04:00:00Z); give epoch "
        "milliseconds (1704081600000) or ISO-8601 like 2024-01-31\n"
    )
    assert _rows(mt) == 6
    backtest = mt(
        "backtest", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h", "--start", "1704081600"
    )
    assert backtest.exit_code == 2 and "invalid --start date '1704081600': epoch seconds?" in backtest.stderr
    # milliseconds are milliseconds
    done = mt("data", "delete", "BTC/USDT", "--timeframe", "1h", "--since", "1704081600000", "--yes")
    assert done.exit_code == 0, done.output
    assert _rows(mt) == 4
