"""One bar length, one name. `--timeframe 60m` (or `01h`, in the config, a genome file or the API) made a
second series beside `1h`: candles, features and strategies stored under the text given, the generator's
trial count (deflated Sharpe) split between the two, and a strategy written for `60m` read no `1h` bars.
Every door now refuses a spelling that is not the timeframe's own and names the one to write; a series
stored under such a spelling before stays listed, exportable, checkable and deletable."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from mastertrade.engine.market.timeframes import canonical_timeframe, check_timeframe, timeframe_ms
from mastertrade.errors import UserInputError
from tests.genome_doc import GENOME


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("1m", "1m"),
        ("90m", "90m"),
        ("60m", "1h"),
        ("01h", "1h"),
        ("120m", "2h"),
        ("24h", "1d"),
        ("48h", "2d"),
        ("7d", "1w"),
        ("1440m", "1d"),
        ("4h", "4h"),
        ("1w", "1w"),
    ],
)
def test_each_length_has_one_spelling(given: str, canonical: str) -> None:
    assert canonical_timeframe(given) == canonical
    assert timeframe_ms(given) == timeframe_ms(canonical)  # what is stored under any spelling stays readable
    if given == canonical:
        assert check_timeframe(given) == given
    else:
        with pytest.raises(UserInputError, match=f"^--timeframe {given}: write it as {canonical}$"):
            check_timeframe(given, what="--timeframe")


def test_what_is_no_timeframe_is_still_named_as_before() -> None:
    with pytest.raises(UserInputError, match="^invalid timeframe '7x'"):
        check_timeframe("7x", what="--timeframe")


@pytest.mark.parametrize("timeframe", ["1234567890m", "366d", "53w"])
def test_a_bar_longer_than_a_year_is_refused_naming_it(mt: Any, timeframe: str) -> None:
    # was: `mt data sim --timeframe 1234567890m` ended in numpy's "lam value too large" traceback
    result = mt("data", "sim", "BTC/USDT", "--timeframe", timeframe, "--bars", "100", "--seed", "3")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert (
        result.stderr == f"mt: error: invalid timeframe {timeframe!r}: a bar is at most a year long (365d)\n"
    )
    assert mt("data", "list", "--json").stdout.count("BTC/USDT") == 0
    assert timeframe_ms("365d") == 365 * 86_400_000


def _sim(mt: Any, timeframe: str = "1h") -> None:
    result = mt("data", "sim", "BTC/USDT", "--timeframe", timeframe, "--bars", "400", "--seed", "3")
    assert result.exit_code == 0, result.stderr


def _refused(result: Any, spelled: str = "60m", canonical: str = "1h") -> None:
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stderr == f"mt: error: --timeframe {spelled}: write it as {canonical}\n"
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ("data", "sim", "BTC/USDT", "--bars", "400"),
        ("data", "download", "BTC/USDT", "--since", "2024-01-01"),
        ("backtest", "sma_cross", "--symbol", "BTC/USDT"),
        ("validate", "sma_cross", "--symbol", "BTC/USDT"),
        ("optimize", "sma_cross", "--symbol", "BTC/USDT"),
        ("strategy", "parity", "sma_cross", "--symbol", "BTC/USDT"),
        ("strategy", "show", "sma_cross"),
        ("strategy", "add", "sma_cross", "--symbol", "BTC/USDT"),
        ("generate", "--count", "2"),
        ("alerts", "add", "--when", '{"<": [{"feature": "fear_greed"}, 20]}'),
    ],
)
def test_every_command_refuses_a_second_spelling(mt: Any, db_url: str, args: tuple[str, ...]) -> None:
    _sim(mt)
    _refused(mt(*args, "--timeframe", "60m"))


def test_a_strategy_filter_that_can_match_nothing_names_the_spelling(mt: Any, db_url: str) -> None:
    _sim(mt)
    added = mt.json("strategy", "add", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h")
    _refused(mt("strategy", "list", "--timeframe", "60m"))
    assert [row["id"] for row in mt.json("strategy", "list", "--timeframe", "1h")] == [added["id"]]


def test_generate_timeframes_and_import_refuse_it(mt: Any, db_url: str, tmp_path: Path) -> None:
    _sim(mt)
    result = mt("generate", "--timeframes", "1h,01h", "--count", "2")
    assert result.exit_code == 2 and result.stderr == "mt: error: --timeframes 01h: write it as 1h\n"
    csv = tmp_path / "bars.csv"
    csv.write_text("timestamp,open,high,low,close,volume\n2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n")
    _refused(mt("data", "import", str(csv), "--symbol", "BTC/USDT", "--timeframe", "60m"))
    assert [s["timeframe"] for s in mt.json("data", "list")] == ["1h"]  # nothing half-written


def test_the_config_refuses_it(mt: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT_MARKET__TIMEFRAME", "60m")
    result = mt("config", "show")
    assert result.exit_code == 2 and "timeframe 60m: write it as 1h" in result.stderr
    monkeypatch.setenv("MT_MARKET__TIMEFRAME", "1h")
    monkeypatch.setenv("MT_GENERATOR__TIMEFRAMES", '["4h", "240m"]')
    result = mt("config", "show")
    assert result.exit_code == 2 and "timeframe 240m: write it as 4h" in result.stderr


def test_a_genome_file_names_its_field(mt: Any, db_url: str, tmp_path: Path) -> None:
    _sim(mt)
    genome = tmp_path / "hourly.json"
    genome.write_text(json.dumps({**GENOME, "symbol": "BTC/USDT", "timeframe": "60m"}))
    result = mt("backtest", str(genome))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f'mt: error: {genome}: timeframe: write it as 1h (got "60m")\n'
    batch = tmp_path / "batch.jsonl"
    batch.write_text(json.dumps({**GENOME, "symbol": "BTC/USDT", "timeframe": "01h"}) + "\n")
    result = mt("backtest", "--batch", str(batch))
    assert result.exit_code == 2 and 'timeframe: write it as 1h (got "01h")' in result.stderr


def _store_legacy(spelled: str) -> None:
    """A series written under a spelling before it was refused (as `mt data sim --timeframe 60m` did)."""

    async def write() -> None:
        from mastertrade.config import load_settings
        from mastertrade.db.database import Database
        from mastertrade.engine.market.store import CandleStore, SeriesKey

        db = await Database.open(load_settings())
        try:
            step = timeframe_ms(spelled)
            rows = [(1_700_000_000_000 + i * step, 100.0, 101.0, 99.0, 100.5, 5.0) for i in range(30)]
            await CandleStore(db).upsert(SeriesKey("sim", "BTC/USDT", spelled), rows)
        finally:
            await db.close()

    asyncio.run(write())


def test_a_series_stored_under_an_old_spelling_stays_reachable(mt: Any, db_url: str, tmp_path: Path) -> None:
    _sim(mt)
    _store_legacy("60m")
    listed = {s["timeframe"]: s["rows"] for s in mt.json("data", "list")}
    assert listed == {"1h": 400, "60m": 30}  # listed as stored
    out = tmp_path / "old.csv"
    result = mt("data", "export", "BTC/USDT", "--timeframe", "60m", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert len(out.read_text().splitlines()) == 31
    assert mt("data", "check", "BTC/USDT", "--timeframe", "60m").exit_code == 0
    resimulated = mt("data", "sim", "BTC/USDT", "--timeframe", "4h", "--bars", "50")
    assert resimulated.exit_code == 0 and "60m" in resimulated.stderr
    assert "`mt data sim ... --timeframe 1h`" in resimulated.stderr  # never a command that is refused
    _refused(mt("data", "export", "BTC/USDT", "--timeframe", "01h", "--out", str(tmp_path / "x.csv")), "01h")
    _refused(mt("data", "delete", "BTC/USDT", "--timeframe", "01h", "--yes"), "01h")
    result = mt("data", "delete", "BTC/USDT", "--timeframe", "60m", "--yes")
    assert result.exit_code == 0, result.stderr
    assert {s["timeframe"]: s["rows"] for s in mt.json("data", "list")}.get("60m", 0) == 0
    assert {s["timeframe"]: s["rows"] for s in mt.json("data", "list")}["1h"] == 400
    assert {s["timeframe"]: s["rows"] for s in mt.json("data", "list")}["4h"] == 50
