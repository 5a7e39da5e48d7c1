"""`mt daemon run nightly_generation` says on its top line what the night did, in the words `mt status`
stores for it: it printed "job nightly_generation run 3: ok in 1.6 s" whether the night searched every
series or none (each skipped: no candles yet, too few bars), and a night stopped by one series' error did
not say which series. A long list of skipped series keeps the line to a line of the terminal: the counts,
the first series, "+N more: see below" (the series table lists each); it ran on over every reason, a
screenful for a universe of twelve. The real nightly job runs here, in a daemon on a fake venue."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mastertrade.config import Settings
from mastertrade.engine.market.sim import simulate
from mastertrade.engine.market.store import SeriesKey, rows_from_frame
from mastertrade.engine.services import build_jobs
from tests.conftest import MT
from tests.daemon import conftest as daemon_conftest
from tests.daemon.conftest import ThreadedDaemon, configure

END = 1_780_272_000_000  # 2026-06-01T00:00:00Z: the candles end here, whatever day the test runs
SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]


MANY = [*SYMBOLS, "ADA/USDT", "XRP/USDT", "DOT/USDT", "LTC/USDT", "BNB/USDT", "AVAX/USDT", "LINK/USDT"]
PIPE_WIDTH = 200  # how wide `mt` writes when its output is not a terminal, as here (`cli.output`)


@pytest.fixture
def symbols() -> list[str]:
    """The universe's symbols (one timeframe, 1h); a test asks for more with ``@pytest.mark.parametrize``."""
    return SYMBOLS


@pytest.fixture
def settings(mt_home: Path, monkeypatch: pytest.MonkeyPatch, symbols: list[str]) -> Settings:
    monkeypatch.setenv("MT_DB__URL", f"sqlite+aiosqlite:///{mt_home}/data/test.db")
    return configure(
        market={"symbols": symbols, "timeframe": "1h"},
        generator={"count": 4, "population": 8, "generations": 0},
        scheduler={"enabled": False},  # runs by hand only
    )


@pytest.fixture
def night_daemon(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadedDaemon]:
    """A daemon whose jobs are the product's own (the real nightly generation), on the fake venue."""
    monkeypatch.setattr(daemon_conftest, "core_jobs", build_jobs)
    daemon = ThreadedDaemon(settings).start()
    try:
        yield daemon
    finally:
        daemon.stop()


def raw_top_line(result: Any) -> str:
    """The line saying how the run ended (the daemon runs in this process: its log lines are on the same
    stderr)."""
    (line,) = [line for line in result.stderr.splitlines() if re.match(r"job \S+ run \d+: ", line)]
    return line


def top_line(result: Any) -> str:
    """:func:`raw_top_line`, its run's number and time left out."""
    return re.sub(r"run \d+", "run N", re.sub(r" in [\d.]+ s", " in T s", raw_top_line(result)))


def last_run(mt: MT) -> dict[str, Any]:
    """The nightly's last run as `mt status --json` gives it: its outcome as stored, its words, its result."""
    (night,) = [job for job in mt.json("status")["jobs"] if job["name"] == "nightly_generation"]
    run: dict[str, Any] = night["last_run"]
    return run


def store(daemon: ThreadedDaemon, symbol: str, bars: int) -> None:
    """``bars`` simulated hourly candles of ``symbol`` ending at ``END``, stored as the feed stores."""
    assert daemon.ctx is not None and daemon.loop is not None
    rows = rows_from_frame(simulate(symbol, "1h", bars, seed=11, end=END))
    upsert = daemon.ctx.candles.upsert(SeriesKey("fake", symbol, "1h"), rows)
    asyncio.run_coroutine_threadsafe(upsert, daemon.loop).result(timeout=30)


def test_a_night_that_skipped_every_series_says_so_on_its_top_line(
    mt: MT, night_daemon: ThreadedDaemon
) -> None:
    result = mt("daemon", "run", "nightly_generation")
    assert result.exit_code == 0, result.output
    said = top_line(result)
    assert said.startswith(
        "job nightly_generation run N: ok: 0 of 3 series searched (all skipped: no candles stored for"
        " BTC/USDT 1h on fake"
    ), said
    # three reasons do not fit a line: the first, and where the others are (each in the table below)
    assert said.endswith("; +2 more: see below) in T s"), said
    assert len(raw_top_line(result)) <= PIPE_WIDTH
    run = last_run(mt)
    assert run["outcome"] == "ok"  # as stored, for scripts
    assert "; no candles stored for SOL/USDT 1h on fake" in run["summary"]  # whole in --json
    assert "skipped: no candles stored for SOL/USDT 1h on fake" in result.stdout


def test_a_night_that_searched_one_series_counts_what_it_stored(mt: MT, night_daemon: ThreadedDaemon) -> None:
    store(night_daemon, "BTC/USDT", 1500)
    store(night_daemon, "ETH/USDT", 40)  # too few to search; SOL/USDT has none
    result = mt("daemon", "run", "nightly_generation")
    assert result.exit_code == 0, result.output
    said = top_line(result)
    assert said.startswith("job nightly_generation run N: ok: 1 of 3 series searched, "), said
    run = last_run(mt)
    btc, eth, sol = run["result"]["series"]
    stored, passed = btc["counts"]["stored"], btc["counts"]["passed"]
    assert stored > 0 and "skipped" not in btc and eth["skipped"] and sol["skipped"]
    strategies = f"{stored} strateg{'y' if stored == 1 else 'ies'}"
    searched = f"ok: 1 of 3 series searched, {strategies} stored, {passed} passed"
    if run["result"]["paper"]:
        searched += f", {len(run['result']['paper'])} put on paper"
    elif passed:
        searched += ", none put on paper"
    assert run["summary"] == f"{searched} (2 skipped: {eth['skipped']}; {sol['skipped']})"
    # the counts whole, the first skipped series begun, then where the other is
    assert said.startswith(f"job nightly_generation run N: {searched} (2 skipped: {eth['skipped'][:15]}")
    assert said.endswith("; +1 more: see below) in T s"), said
    assert len(raw_top_line(result)) <= PIPE_WIDTH


def test_a_night_stopped_by_a_series_error_names_the_series(
    mt: MT, night_daemon: ThreadedDaemon, mt_home: Path
) -> None:
    store(night_daemon, "BTC/USDT", 1500)
    store(night_daemon, "ETH/USDT", 1500)
    # one of ETH/USDT's candles unreadable: the night stops there
    with sqlite3.connect(mt_home / "data" / "test.db") as db:
        db.execute(
            "UPDATE candles SET close = 'abc' WHERE ts = ? AND series_id = (SELECT id FROM series"
            " WHERE exchange = 'fake' AND symbol = 'ETH/USDT' AND timeframe = '1h')",
            (END - 100 * 3_600_000,),
        )
    failed = mt("daemon", "run", "nightly_generation")
    assert failed.exit_code == 1
    assert top_line(failed) == (
        "job nightly_generation run N: error in T s: ValueError: could not convert string to float: 'abc'"
        " (while searching ETH/USDT 1h, series 2 of 3: the run of the 1 searched before it stays stored)"
    )
    run = last_run(mt)
    assert run["outcome"] == "error" and "while searching ETH/USDT 1h" in run["error"]


@pytest.mark.parametrize("symbols", [MANY])
def test_a_night_that_skipped_many_series_keeps_its_top_line_to_a_line(
    mt: MT, night_daemon: ThreadedDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten skipped series made a top line of some 1,160 characters, a terminal's width eight times over."""
    monkeypatch.setattr("mastertrade.cli.output._PIPE_WIDTH", 140)  # as in a terminal 140 wide
    result = mt("daemon", "run", "nightly_generation")
    assert result.exit_code == 0, result.output
    line = raw_top_line(result)
    assert len(line) <= 140, line
    said = top_line(result)
    assert said.startswith(
        "job nightly_generation run N: ok: 0 of 10 series searched (all skipped: no candles stored for"
        " BTC/USDT"
    ), said
    assert said.endswith("…; +9 more: see below) in T s"), said
    table = result.stdout  # each series below it, with why
    assert all(f"│ {symbol} " in table for symbol in MANY) and table.count("skipped: no candles") == 10
    run = last_run(mt)
    assert run["summary"].count("no candles stored for") == 10  # whole in `mt status --json`
    assert run["summary_list"]["said"] == "ok: 0 of 10 series searched"
    assert run["summary_list"]["label"] == "all skipped" and len(run["summary_list"]["items"]) == 10
