"""``mt generate`` over a universe (symbols × timeframes): one run per series with its derived seed, a
series without candles skipped with the reason, the per-series summary, and bad input refused."""

from __future__ import annotations

import importlib.util
import json
import statistics

import pytest

from mastertrade.engine.generator.universe import series_of, universe_seeds
from mastertrade.errors import UserInputError
from tests.conftest import MT

SMALL = ("--count", "6", "--population", "8", "--generations", "1")


def sim(mt: MT, symbol: str, timeframe: str, bars: int) -> None:
    done = mt(
        "data",
        "sim",
        symbol,
        "--timeframe",
        timeframe,
        "--bars",
        str(bars),
        "--seed",
        "5",
        "--end",
        "2025-01-01",
    )
    assert done.exit_code == 0, done.stderr


def test_a_universe_runs_every_series_and_reports_each(mt: MT, monkeypatch: pytest.MonkeyPatch) -> None:
    from mastertrade.engine.generator import release

    released: list[None] = []
    monkeypatch.setattr(release, "release_series_memory", lambda: released.append(None))
    sim(mt, "BTC/USDT", "1h", 3000)
    sim(mt, "BTC/USDT", "4h", 800)
    sim(mt, "ETH/USDT", "1h", 3000)
    doc = mt.json(
        "generate", "--symbols", "BTC/USDT,ETH/USDT", "--timeframes", "1h,4h", "--seed", "9", *SMALL
    )
    assert len(released) == 4  # after each series, nothing kept for the next
    series = [(s["symbol"], s["timeframe"]) for s in doc["series"]]
    assert series == [("BTC/USDT", "1h"), ("BTC/USDT", "4h"), ("ETH/USDT", "1h"), ("ETH/USDT", "4h")]
    assert [s["seed"] for s in doc["series"]] == universe_seeds(9, series) and doc["seed"] == 9
    ran = [s for s in doc["series"] if "run_id" in s]
    assert len(ran) == 3 and len({s["run_id"] for s in ran}) == 3
    assert all(s["counts"]["stored"] == 6 and len(s["strategies"]) == 6 for s in ran)
    assert all(
        row["symbol"] == s["symbol"] and row["timeframe"] == s["timeframe"]
        for s in ran
        for row in s["strategies"]
    )
    assert "no candles" in doc["series"][3]["skipped"]
    for s in ran:  # the search's pick and the median, never the largest hold-out figure (a pick on it)
        rows = s["strategies"]
        top = max(rows, key=lambda row: row["search_sharpe"] if row["search_sharpe"] is not None else -1e9)
        assert s["top_strategy"] == top["id"] and s["top_holdout_sharpe"] == top["holdout_sharpe"]
        held = sorted(row["holdout_sharpe"] for row in rows if row["holdout_sharpe"] is not None)
        assert s["median_holdout_sharpe"] == statistics.median(held)
        assert "best_holdout_sharpe" not in s
    assert doc["counts"] == {
        "series": 4,
        "ran": 3,
        "skipped": 1,
        "stored": 18,
        "passed": doc["counts"]["passed"],
        "scored": sum(s["counts"]["scored"] for s in ran),
    }
    table = mt("generate", "--universe", "--timeframes", "1h", "--seed", "9", *SMALL)
    assert table.exit_code == 0, table.stderr
    assert "Generation over 3 series, universe seed 9" in table.stdout  # [market] symbols: BTC, ETH, SOL
    assert "search's best" in table.stdout and "median hold-out" in table.stdout
    assert "skipped: no candles" in table.stdout and "stored 12 strategies" in table.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--executor", "gpu"), "unknown executor 'gpu'"),
        (
            ("--executor", "dask", "--scheduler", "localhost:8786"),
            "invalid scheduler address 'localhost:8786'",
        ),
        (("--scheduler", "tcp://127.0.0.1:8786"), "needs --executor dask"),
        (("--symbol", "BTC/USDT", "--symbols", "ETH/USDT"), "not both"),
        (("--timeframes", "1h,7q"), "7q"),
        (("--symbols", " , "), "no symbols"),
        (("--symbols", "BTC/USDT,ETHUSDT"), "invalid symbol 'ETHUSDT'"),
    ],
)
def test_bad_universe_and_executor_options_are_refused(mt: MT, args: tuple[str, ...], message: str) -> None:
    result = mt("generate", *args)
    assert result.exit_code == 2 and message in result.stderr and result.stdout == ""


def test_dask_without_the_extra_says_how_to_install_it(mt: MT, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "distributed" else real(name, *a)
    )
    result = mt("generate", "--executor", "dask")
    assert result.exit_code == 2
    assert (
        "mt: error: the dask executor needs the cluster extra: pip install 'mastertrade[cluster]'"
        in result.stderr
    )


def test_series_of_checks_and_deduplicates() -> None:
    assert series_of(["A/USDT", "B/USDT", "A/USDT"], ["1h", "1h"]) == [("A/USDT", "1h"), ("B/USDT", "1h")]
    with pytest.raises(UserInputError, match="no timeframes"):
        series_of(["A/USDT"], [])
    with pytest.raises(UserInputError):
        series_of(["A/USDT"], ["1x"])


def test_a_universe_symbol_is_its_market_in_any_case() -> None:
    """`--symbols BTC/USDT,btc/usdt` is one series (it ran twice, under two seeds), `btc/usdt` gets the
    seed of BTC/USDT, and a symbol that is not BASE/QUOTE is refused instead of skipped as uncandled."""
    chosen = series_of(["BTC/USDT", " btc/usdt", "eth/usdt"], ["1h"])
    assert chosen == [("BTC/USDT", "1h"), ("ETH/USDT", "1h")]
    assert universe_seeds(7, series_of(["btc/usdt"], ["1h"])) == universe_seeds(7, [("BTC/USDT", "1h")])
    with pytest.raises(UserInputError, match="invalid symbol 'BTCUSDT'"):
        series_of(["BTC/USDT", "BTCUSDT"], ["1h"])


def test_generate_says_when_lookback_bars_leaves_stored_bars_out(
    mt: MT, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim(mt, "BTC/USDT", "1h", 3000)
    monkeypatch.setenv("MT_GENERATOR__LOOKBACK_BARS", "2500")
    result = mt("generate", "--symbol", "BTC/USDT", "--seed", "1", *SMALL, "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (
        doc["data"]["bars"] == 2500
        and doc["data"]["stored_bars"] == 3000
        and doc["data"]["trimmed_bars"] == 500
    )
    assert "searched the newest 2,500 of 3,000 stored bars" in result.stderr
    assert "the older 500 bars were left out" in result.stderr
    assert "([generator] lookback_bars = 2,500)" in result.stderr
    monkeypatch.setenv("MT_GENERATOR__LOOKBACK_BARS", "5000")
    whole = mt("generate", "--symbol", "BTC/USDT", "--seed", "2", *SMALL)
    assert whole.exit_code == 0, whole.stderr
    assert "left out" not in whole.stderr
