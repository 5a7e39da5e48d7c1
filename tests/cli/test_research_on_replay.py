"""Research run by hand in a replay workspace stops at the replay's market time, as ``mt generate`` does:
the store holds the bars the replay has yet to play, and a backtest, a validation or a tuning over them
reads prices the replayed market has not shown. Each command says so on stderr with the count of stored
bars it left out (``market_time``, ``after_market_time_bars`` in ``--json``); a --start or --end after
the market time is refused in one line naming both times. Outside a replay nothing changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mastertrade.engine.signals.builtins import builtin
from mastertrade.utc import iso_ms, parse_iso, to_ms
from tests.conftest import MT

HOUR = 3_600_000
STORED, PLAYED = 1000, 700  # bars stored; bars closed by the replay's market time
SERIES = ("--symbol", "BTC/USDT", "--timeframe", "1h")


@pytest.fixture
def first(mt: MT) -> int:
    """The open (epoch ms) of the first of ``STORED`` simulated bars of BTC/USDT 1h."""
    result = mt("data", "sim", "BTC/USDT", "--timeframe", "1h", "--bars", str(STORED), "--seed", "2")
    assert result.exit_code == 0, result.stderr
    [series] = mt.json("data", "list")
    return to_ms(parse_iso(series["first"]))


@pytest.fixture
def market_time(first: int, monkeypatch: pytest.MonkeyPatch) -> int:
    """The workspace replays the series from its ``PLAYED + 1``-th bar: its market time (epoch ms)."""
    start = first + PLAYED * HOUR
    monkeypatch.setenv("MT_MARKET__VENUE", "replay")
    monkeypatch.setenv("MT_MARKET__REPLAY_EXCHANGE", "sim")
    monkeypatch.setenv("MT_MARKET__SYMBOLS", '["BTC/USDT"]')
    monkeypatch.setenv("MT_MARKET__TIMEFRAME", "1h")
    monkeypatch.setenv("MT_MARKET__REPLAY_START", iso_ms(start))
    return start


def said(stderr: str, did: str, at: int) -> bool:
    """The one line a research command says on stderr in a replay workspace."""
    return (
        f'BTC/USDT 1h: this workspace is a replay ([market] venue = "replay") at market time {iso_ms(at)}:'
        f" {did} only the bars closed by then; the {STORED - PLAYED} stored bars after it were left out"
        " (the replay has yet to play them)"
    ) in " ".join(stderr.split())


def test_backtest_reads_only_the_bars_the_replay_played(mt: MT, market_time: int, tmp_path: Path) -> None:
    result = mt("backtest", "sma_cross", *SERIES, "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["bars"] == PLAYED and doc["end"] == iso_ms(market_time - HOUR)
    assert doc["market_time"] == iso_ms(market_time)
    assert doc["after_market_time_bars"] == STORED - PLAYED
    assert said(result.stderr, "backtested on", market_time), result.stderr

    batch = tmp_path / "genomes.jsonl"
    batch.write_text(builtin("sma_cross").to_json(indent=None) + "\n", encoding="utf-8")
    result = mt("backtest", "--batch", str(batch), *SERIES)
    assert result.exit_code == 0, result.stderr
    [line] = [json.loads(text) for text in result.stdout.splitlines()]
    assert line["bars"] == PLAYED and line["end"] == doc["end"]
    assert line["market_time"] == iso_ms(market_time) and line["after_market_time_bars"] == STORED - PLAYED
    assert said(result.stderr, "backtested on", market_time), result.stderr

    # an --end at the market time is the same bars; an earlier one fewer, still said
    assert mt.json("backtest", "sma_cross", *SERIES, "--end", iso_ms(market_time))["bars"] == PLAYED
    earlier = mt.json("backtest", "sma_cross", *SERIES, "--end", iso_ms(market_time - 100 * HOUR))
    assert earlier["bars"] == PLAYED - 100 and earlier["market_time"] == iso_ms(market_time)


def test_validate_reads_only_the_bars_the_replay_played(mt: MT, market_time: int) -> None:
    result = mt("validate", "sma_cross", *SERIES, "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["full"]["end"] == iso_ms(market_time - HOUR)
    assert doc["market_time"] == iso_ms(market_time)
    assert doc["after_market_time_bars"] == STORED - PLAYED
    assert said(result.stderr, "validated on", market_time), result.stderr


def test_optimize_tunes_only_on_the_bars_the_replay_played(mt: MT, market_time: int, first: int) -> None:
    result = mt("optimize", "sma_cross", *SERIES, "--trials", "3", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["data"]["bars"] == PLAYED and doc["holdout"]["end"] == iso_ms(market_time - HOUR)
    assert doc["data"]["market_time"] == iso_ms(market_time)
    assert doc["data"]["after_market_time_bars"] == STORED - PLAYED
    assert said(result.stderr, "tuned on", market_time), result.stderr
    assert "would trade these strategies" not in result.stderr  # a tuning stores none

    ranged = mt("optimize", "sma_cross", *SERIES, "--trials", "3", "--start", iso_ms(first), "--json")
    assert ranged.exit_code == 0, ranged.stderr
    doc = json.loads(ranged.stdout)
    assert doc["data"]["bars"] == PLAYED and doc["holdout"]["end"] == iso_ms(market_time - HOUR)
    assert doc["data"]["after_market_time_bars"] == STORED - PLAYED
    assert said(ranged.stderr, "tuned on", market_time), ranged.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("backtest", "sma_cross"),
        ("backtest", "--batch", "GENOMES"),
        ("validate", "sma_cross"),
        ("optimize", "sma_cross", "--trials", "3"),
    ],
)
def test_a_range_past_the_market_time_is_refused_naming_both_times(
    mt: MT, market_time: int, command: tuple[str, ...], tmp_path: Path
) -> None:
    batch = tmp_path / "genomes.jsonl"
    batch.write_text(builtin("sma_cross").to_json(indent=None) + "\n", encoding="utf-8")
    args = [str(batch) if arg == "GENOMES" else arg for arg in command]
    later = iso_ms(market_time + 24 * HOUR)
    result = mt(*args, *SERIES, "--end", later, "--json")
    assert result.exit_code == 2 and result.stdout == "", result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(
        f"mt: error: invalid --end {later}: after the market time of this replay workspace ([market]"
        f' venue = "replay"), {iso_ms(market_time)}'
    ), line
    assert f"Give --end {iso_ms(market_time)} or earlier" in line
    result = mt(*args, *SERIES, "--start", iso_ms(market_time), "--json")
    assert result.exit_code == 2 and result.stdout == "", result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"mt: error: invalid --start {iso_ms(market_time)}: not before the market time"), (
        line
    )
    if command[0] == "optimize":  # refused before any trial joined the series' registry
        tuned = mt.json("optimize", "sma_cross", *SERIES, "--trials", "3")
        assert tuned["deflated_trials"]["trials"] == 3, tuned["deflated_trials"]


def test_outside_a_replay_nothing_changes(mt: MT, first: int) -> None:
    result = mt("backtest", "sma_cross", *SERIES, "--end", iso_ms(first + STORED * HOUR + HOUR), "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["bars"] == STORED and "market_time" not in doc and "replay" not in result.stderr
    assert "market_time" not in mt.json("validate", "sma_cross", *SERIES)
    assert "market_time" not in mt.json("optimize", "sma_cross", *SERIES, "--trials", "3")["data"]


def test_strategy_add_reports_only_on_the_bars_the_replay_played(mt: MT, market_time: int) -> None:
    """The backtest `mt strategy add` attaches (and stores with the strategy, which may go on paper with
    the replay's daemon) reads only the bars closed by the market time, and says so."""
    result = mt("strategy", "add", "sma_cross", *SERIES, "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)["report"]
    assert report["bars"] == PLAYED and report["end"] == iso_ms(market_time - HOUR)
    assert report["market_time"] == iso_ms(market_time)
    assert report["after_market_time_bars"] == STORED - PLAYED
    assert said(result.stderr, "backtested on", market_time), result.stderr


def test_parity_replays_only_the_bars_the_replay_played(mt: MT, market_time: int, first: int) -> None:
    start = iso_ms(first + 100 * HOUR)
    result = mt("strategy", "parity", "sma_cross", *SERIES, "--start", start, "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["end"] == iso_ms(market_time - HOUR), doc["end"]
    assert doc["market_time"] == iso_ms(market_time)
    assert doc["after_market_time_bars"] == STORED - PLAYED
    assert said(result.stderr, "replayed", market_time), result.stderr
    later = iso_ms(market_time + 24 * HOUR)
    refused = mt("strategy", "parity", "sma_cross", *SERIES, "--start", start, "--end", later)
    assert refused.exit_code == 2 and refused.stdout == "", refused.stderr
    assert refused.stderr.startswith(f"mt: error: invalid --end {later}: after the market time")
