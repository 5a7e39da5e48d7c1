"""Data-quality checks (``quality.py``) and ``mt data check [--repair]`` against the fake exchange."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from mastertrade.engine.candle import CandleRow
from mastertrade.engine.market.quality import check_candles
from mastertrade.engine.market.sim import simulate
from mastertrade.engine.market.store import SeriesKey, rows_from_frame
from tests.conftest import MT
from tests.fakes.exchange import FakeExchange, serve_configured

HOUR = 3_600_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
KEY = SeriesKey("binance", "BTC/USDT", "1h")
KLINES = "/api/v3/klines"


def matrix(rows: list[CandleRow]) -> Any:
    return np.array(rows, dtype=np.float64).reshape(-1, 6)


def seed(key: SeriesKey, rows: list[CandleRow]) -> None:
    """Store rows through the configured database (MT_DB__URL), outside any running event loop."""
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database
    from mastertrade.engine.market.store import CandleStore

    async def write() -> None:
        db = await Database.open(load_settings())
        try:
            await CandleStore(db).upsert(key, rows)
        finally:
            await db.close()

    asyncio.run(write())


def load(key: SeriesKey) -> list[CandleRow]:
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database
    from mastertrade.engine.market.store import CandleStore

    async def read() -> list[CandleRow]:
        db = await Database.open(load_settings())
        try:
            return rows_from_frame(await CandleStore(db).read(key))
        finally:
            await db.close()

    return asyncio.run(read())


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeExchange]:
    """The fake exchange on the real clock, configured as the [exchange] of the CLI."""
    yield from serve_configured(FakeExchange({"BTC/USDT": 42_000.0}), monkeypatch, page_limit=100)


def damaged(fake: FakeExchange) -> tuple[list[CandleRow], dict[str, Any]]:
    """300 bars of the fake's history with two gaps, an off-grid bar, inconsistent bars and outliers."""
    rows = fake.closed_candles("BTC/USDT", "1h", T0, T0 + 300 * HOUR)
    drop = set(range(50, 53)) | set(range(200, 210))
    ts = [row[0] for row in rows]
    bad: dict[str, Any] = {"gaps": [(ts[50], ts[52], 3), (ts[200], ts[209], 10)]}
    out = []
    for i, (t, o, h, low, c, v) in enumerate(rows):
        if i in drop:
            continue
        if i == 100:
            h, low = low, h  # high < low (and open/close outside the inverted range)
        if i == 120:
            v = -1.0
        if i == 140:
            c = h * 1.5  # close above high, and a return far out of line
        if i == 160:
            h, low = max(o, c) * 1.5, min(o, c) / 1.5  # a range far beyond normal
        out.append((t, o, h, low, c, v))
    out.append((ts[250] + 30 * 60_000, *rows[250][1:]))  # a bar between two grid points
    out.sort()
    bad["index"] = {
        name: ts[i] for name, i in (("inverted", 100), ("volume", 120), ("spike", 140), ("wide", 160))
    }
    bad["off_grid"] = ts[250] + 30 * 60_000
    return out, bad


def test_check_finds_every_kind_of_problem() -> None:
    with FakeExchange({"BTC/USDT": 42_000.0}, now=T0 + 400 * HOUR) as fake:
        rows, bad = damaged(fake)
    report = check_candles(matrix(rows), KEY)
    assert [(g.start, g.end, g.bars) for g in report.gaps] == bad["gaps"]
    assert report.missing == 13 and report.expected == 300 and report.rows == 288
    assert report.off_grid == [bad["off_grid"]] and report.duplicates == []
    problems = {bar.ts: bar.problems for bar in report.inconsistent}
    at = bad["index"]
    assert problems[at["inverted"]][0] == "high < low"
    assert problems[at["volume"]] == ("negative volume",)
    assert problems[at["spike"]] == ("close outside [low, high]",)
    assert set(problems) == {at["inverted"], at["volume"], at["spike"]}
    flagged = {(o.ts, o.kind) for o in report.outliers}
    assert (at["spike"], "return") in flagged and (at["spike"] + HOUR, "return") in flagged  # up, then back
    assert (at["wide"], "range") in flagged
    assert len(flagged) <= 5  # nothing else in 300 ordinary bars
    assert not report.ok and report.counts == {
        "gaps": 2,
        "off_grid": 1,
        "duplicates": 0,
        "inconsistent": 3,
        "outliers": len(report.outliers),
    }


def test_clean_data_passes() -> None:
    with FakeExchange({"BTC/USDT": 42_000.0}, now=T0 + 2000 * HOUR) as fake:
        rows = fake.closed_candles("BTC/USDT", "1h", T0, T0 + 2000 * HOUR)
    assert check_candles(matrix(rows), KEY).ok
    # A year of the simulated market (fat tails, volatility clusters, regime changes, jumps) is not
    # flagged either with the default thresholds.
    sim = simulate("BTC/USDT", "1h", 8760, seed=7, end=T0)
    report = check_candles(matrix(rows_from_frame(sim)), SeriesKey("sim", "BTC/USDT", "1h"))
    assert report.ok, report.as_dict()["outliers"]
    assert check_candles(matrix([]), KEY).as_dict()["rows"] == 0


def test_a_short_series_is_measured_against_its_own_scale() -> None:
    """Fewer bars than a quarter window (20 of 101) have no local scale: they were measured against the
    floor (a fifth of the whole series' scale), so ordinary bars of a short import were outliers."""
    sim = simulate("BTC/USDT", "1h", 2000, seed=7, end=T0)
    rows = rows_from_frame(sim)
    key = SeriesKey("csv", "BTC/USDT", "1h")
    assert check_candles(matrix(rows), key).ok
    for start in range(0, 2000, 20):
        report = check_candles(matrix(rows[start : start + 20]), key)
        assert report.ok, (start, report.as_dict()["outliers"])
    spiked = list(rows[:20])
    t, o, h, low, c, v = spiked[10]
    spiked[10] = (t, o, c * 3, low, c * 3, v)  # a bad print is still one
    flagged = {(o.ts, o.kind) for o in check_candles(matrix(spiked), key).outliers}
    assert (t, "return") in flagged and (t, "range") in flagged


def test_a_bad_print_among_unchanged_bars_is_found() -> None:
    """An illiquid market: most 1m bars had no trade (open = high = low = close), so the median move
    and range are 0. Every scale was then 0 and no bar was scored at all: a 100x print passed as clean."""
    rng = np.random.default_rng(3)
    rows: list[CandleRow] = []
    price = 0.00001234
    for i in range(3000):
        if rng.random() < 0.3:
            close = price * float(np.exp(rng.normal(0, 0.002)))
            high, low = max(price, close) * 1.0005, min(price, close) / 1.0005
            rows.append((T0 + i * 60_000, price, high, low, close, 1e9))
        else:
            rows.append((T0 + i * 60_000, price, price, price, price, 0.0))
            close = price
        price = close
    key = SeriesKey("csv", "SHIB/USDT", "1m")
    assert check_candles(matrix(rows), key).ok
    t, o, _, low, c, v = rows[1000]
    rows[1000] = (t, o, c * 100, low, c * 100, v)
    flagged = {(o.ts, o.kind) for o in check_candles(matrix(rows), key).outliers}
    assert flagged == {(t, "return"), (t, "range"), (t + 60_000, "return")}


def test_grid_phase_duplicates_flat_prices_and_non_finite_values() -> None:
    week = 7 * 24 * HOUR
    monday = 1_704_067_200_000  # 2024-01-01 was a Monday: weekly bars open off the epoch's Thursday grid
    weekly = [(monday + i * week, 1.0, 2.0, 0.5, 1.5, 1.0) for i in range(10)]
    assert check_candles(matrix(weekly), SeriesKey("binance", "BTC/USDT", "1w")).ok
    flat = [(T0 + i * HOUR, 5.0, 5.0, 5.0, 5.0, 0.0) for i in range(50)]
    flat[20] = (T0 + 20 * HOUR, 5.0, 5.0, 5.0, 5.0, 0.0)
    assert check_candles(matrix(flat), KEY).ok  # no division by a zero scale
    doubled = [*flat[:10], flat[9], *flat[10:]]
    assert check_candles(matrix(doubled), KEY).duplicates == [T0 + 9 * HOUR]
    holes = list(flat)
    holes[5] = (T0 + 5 * HOUR, float("nan"), 5.0, 5.0, 5.0, 0.0)
    holes[6] = (T0 + 6 * HOUR, 0.0, 5.0, 0.0, 5.0, 0.0)
    problems = {bar.ts: bar.problems for bar in check_candles(matrix(holes), KEY).inconsistent}
    assert problems[T0 + 5 * HOUR] == ("a value is not finite",)
    assert "a price is not positive" in problems[T0 + 6 * HOUR]
    truncated = check_candles(matrix(holes[::2]), KEY, max_items=3).as_dict()
    assert truncated["truncated"] and len(truncated["gaps"]) == 3 and truncated["counts"]["gaps"] == 24
    with pytest.raises(ValueError, match="thresholds"):
        check_candles(matrix(flat), KEY, return_threshold=0)


def test_mt_data_check_reports_and_repairs_gaps(mt: MT, db_url: str, fake: FakeExchange) -> None:
    rows, bad = damaged(fake)
    fake.remove("BTC/USDT", "1h", bad["gaps"][1][0] + 4 * HOUR, bad["gaps"][1][0] + 6 * HOUR)  # a real outage
    seed(KEY, rows)
    report = mt.json("data", "check", "BTC/USDT", "--timeframe", "1h")
    assert report["series"] == "binance:BTC/USDT:1h" and not report["ok"] and report["repair"] is None
    assert report["gaps"] == [
        {"start": "2024-01-03T02:00:00Z", "end": "2024-01-03T04:00:00Z", "bars": 3},
        {"start": "2024-01-09T08:00:00Z", "end": "2024-01-09T17:00:00Z", "bars": 10},
    ]
    assert report["missing"] == 13 and report["counts"]["inconsistent"] == 3
    assert report["off_grid"] == ["2024-01-11T10:30:00Z"]
    assert {"time": "2024-01-05T04:00:00Z", "problems": ["high < low", "open outside [low, high]",
            "close outside [low, high]"]} in report["inconsistent"]  # fmt: skip
    assert fake.requests == []  # checking alone never calls the exchange

    repaired = mt.json("data", "check", "BTC/USDT", "--timeframe", "1h", "--repair")
    fixed = repaired["repair"]
    assert (fixed["missing_before"], fixed["filled"], fixed["still_missing"]) == (13, 11, 2)
    assert repaired["gaps"] == [{"start": "2024-01-09T12:00:00Z", "end": "2024-01-09T13:00:00Z", "bars": 2}]
    assert repaired["counts"]["inconsistent"] == 3  # repair fills gaps; it does not rewrite bars
    # The two gaps do not fit in one 100-bar page together: one request each, besides loading the markets
    # and reading the exchange's clock (which says when a bar has closed) for each.
    assert sorted(r.path for r in fake.requests) == [
        "/api/v3/exchangeInfo",
        *[KLINES] * 2,
        *["/api/v3/time"] * 2,
    ]
    klines = fake.requests_to(KLINES)
    assert [r.params["startTime"] for r in klines] == [str(T0 + 50 * HOUR), str(T0 + 200 * HOUR)]
    assert [r.params["limit"] for r in klines] == ["100", "100"]
    now_stored = {row[0]: row for row in load(KEY)}
    for row in fake.closed_candles("BTC/USDT", "1h", T0 + 50 * HOUR, T0 + 210 * HOUR):
        if row[0] in (T0 + 50 * HOUR, T0 + 51 * HOUR, T0 + 52 * HOUR) or T0 + 200 * HOUR <= row[0]:
            assert now_stored[row[0]] == row  # the filled bars are the exchange's, bit for bit
    assert len(now_stored) == 288 + 11


def test_mt_data_check_text_output(mt: MT, db_url: str, fake: FakeExchange) -> None:
    rows, _ = damaged(fake)
    seed(KEY, rows)
    result = mt("data", "check", "BTC/USDT", "--timeframe", "1h")
    assert result.exit_code == 0
    assert "binance:BTC/USDT:1h: 288 bars" in result.stdout and "13 missing" in result.stdout
    assert "gap" in result.stdout and "negative volume" in result.stdout and "outlier" in result.stdout
    clean = fake.closed_candles("BTC/USDT", "1h", T0, T0 + 50 * HOUR)
    seed(SeriesKey("binance", "ETH/USDT", "1h"), clean)
    result = mt("data", "check", "ETH/USDT", "--timeframe", "1h")
    assert result.exit_code == 0 and "no problems found" in result.stderr and result.stdout == ""


def test_series_that_cannot_be_repaired_say_why(mt: MT, db_url: str) -> None:
    gappy = [(T0 + i * HOUR, 1.0, 2.0, 0.5, 1.5, 1.0) for i in range(20) if i != 7]
    seed(SeriesKey("csv", "BTC/USDT", "1h"), gappy)
    seed(SeriesKey("sim", "ETH/USDT", "1h"), gappy)
    seed(SeriesKey("sim", "SOL/USDT", "1h"), gappy[:7])
    result = mt("data", "check", "BTC/USDT", "--timeframe", "1h", "--repair")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "cannot repair csv:BTC/USDT:1h" in result.stderr and "re-import" in result.stderr
    result = mt("data", "check", "ETH/USDT", "--timeframe", "1h", "--repair")
    assert (
        result.exit_code == 2
        and "cannot repair sim:ETH/USDT:1h" in result.stderr
        and "mt data sim" in result.stderr
    )
    report = mt.json("data", "check", "SOL/USDT", "--timeframe", "1h", "--repair")  # no gaps: nothing to do
    assert report["ok"] and report["repair"]["filled"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["BTC/USDT", "--timeframe", "1hour"], "invalid timeframe '1hour'"),
        (["DOGE/USDT", "--timeframe", "1h"], "no candles stored for DOGE/USDT 1h"),
        (["BTC/USDT", "--timeframe", "1h", "--return-threshold", "0"], "invalid --return-threshold 0"),
    ],
)
def test_mt_data_check_bad_input(mt: MT, args: list[str], message: str) -> None:
    seed(KEY, [(T0, 1.0, 2.0, 0.5, 1.5, 1.0)])
    result = mt("data", "check", *args)
    assert result.exit_code == 2 and message in result.stderr and result.stderr.count("\n") == 1
    assert json.loads(mt("data", "list", "--json").stdout)[0]["rows"] == 1
