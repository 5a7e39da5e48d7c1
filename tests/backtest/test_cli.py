"""``mt backtest`` end to end on simulated candles written to the store: JSON keys, both engines giving
the same figures, the chart, batches, and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mastertrade.engine.backtest.metrics import METRIC_KEYS
from mastertrade.engine.market.sim import simulate
from mastertrade.engine.market.store import SIM_EXCHANGE, CandleStore, SeriesKey, rows_from_frame
from mastertrade.engine.signals.builtins import builtin
from tests.conftest import MT

END = 1_735_689_600_000  # 2025-01-01T00:00:00Z
BARS = 1500
SERIES = ["--symbol", "BTC/USDT", "--timeframe", "1h"]


@pytest.fixture
async def stored() -> SeriesKey:
    """Two months of simulated hourly BTC/USDT candles in the default (SQLite) database of the test's
    MT_HOME. Storage itself is tested on Postgres elsewhere; the backtest only reads a frame."""
    from mastertrade.config import load_settings
    from mastertrade.db.database import Database

    key = SeriesKey(SIM_EXCHANGE, "BTC/USDT", "1h")
    db = await Database.open(load_settings())
    try:
        await CandleStore(db).upsert(key, rows_from_frame(simulate("BTC/USDT", "1h", BARS, 5, end=END)))
    finally:
        await db.close()
    return key


def metrics_of(doc: dict[str, Any]) -> dict[str, Any]:
    return {key: doc[key] for key in METRIC_KEYS}


def test_json_has_the_contract_keys_and_both_engines_agree(stored: SeriesKey, mt: MT) -> None:
    fast = mt.json("backtest", "sma_cross", *SERIES)
    assert set(METRIC_KEYS) <= set(fast)
    assert fast["engine"] == "fast" and fast["strategy"] == "sma_cross"
    assert fast["simulated"] is True and fast["exchange"] == "sim"
    assert fast["bars"] == BARS and fast["trades"] > 5
    assert (fast["cash"], fast["fee"]) == (10_000.0, 0.001)
    reference = mt.json("backtest", "sma_cross", *SERIES, "--engine", "reference")
    assert reference["engine"] == "reference"
    assert metrics_of(reference) == pytest.approx(metrics_of(fast), rel=1e-9)


def test_dates_cash_and_fee_options(stored: SeriesKey, mt: MT) -> None:
    doc = mt.json(
        "backtest", "rsi_reversion", *SERIES, "--start", "2024-12-01", "--end", "2024-12-15",
        "--cash", "500", "--fee", "0",
    )  # fmt: skip
    assert (doc["start"], doc["end"], doc["bars"]) == ("2024-12-01T00:00:00Z", "2024-12-14T23:00:00Z", 336)
    assert (doc["cash"], doc["fee"]) == (500.0, 0.0)
    assert doc["final_equity"] == pytest.approx(500 * (1 + doc["return_pct"] / 100))


def test_table_labels_simulated_data(stored: SeriesKey, mt: MT) -> None:
    result = mt("backtest", "sma_cross", *SERIES)
    assert result.exit_code == 0, result.stderr
    assert "SIMULATED" in result.stdout and "profit factor" in result.stdout


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_plot_writes_an_offline_chart_that_says_what_it_shows(
    stored: SeriesKey, mt: MT, tmp_path: Path, engine: str
) -> None:
    import re

    chart = tmp_path / "charts" / "sma.html"
    chart.parent.mkdir()  # a folder that does not exist is refused, never made (test_user_files_kept.py)
    doc = mt.json("backtest", "sma_cross", *SERIES, "--engine", engine, "--plot", str(chart))
    assert doc["plot"] == str(chart)
    html = chart.read_text(encoding="utf-8")
    assert html.lstrip().startswith("<!DOCTYPE html>") and "Bokeh" in html
    # Offline: every script is in the file; nothing is loaded from anywhere when it is opened.
    assert re.findall(r"<script[^>]*\ssrc=", html, flags=re.IGNORECASE) == []
    assert "cdn.bokeh.org" not in html and "plx.gif" not in html
    assert len(re.findall(r"<script", html)) >= 2 and "Bokeh.embed" in html
    title = f"sma_cross: sim BTC/USDT 1h, {engine} engine"
    assert f"<title>{title} (SIMULATED)</title>" in html
    # the heading sits in the page's embedded bokeh document (JSON with HTML escapes)
    from html import unescape

    document = unescape(html).replace("\\/", "/").replace('\\"', '"')
    assert f"{title} <span" in document and ">SIMULATED</span>" in document


def test_plot_to_a_place_that_cannot_hold_it_is_bad_input(stored: SeriesKey, mt: MT, tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    folder = tmp_path / "folder.html"
    folder.mkdir()
    for chart, message in (
        (afile / "c.html", f"mt: error: cannot write {str(afile / 'c.html')!r}: {str(afile)!r} is a file"),
        (folder, f"mt: error: invalid chart file {str(folder)!r}: it is a folder"),
    ):
        result = mt("backtest", "sma_cross", *SERIES, "--plot", str(chart), "--json")
        assert result.exit_code == 2 and result.stdout == "", result.stderr
        [line] = result.stderr.strip().splitlines()
        assert line.startswith(message), line
    assert afile.read_text(encoding="utf-8") == "x" and list(folder.iterdir()) == []


def test_a_genome_file_names_its_own_series(stored: SeriesKey, mt: MT, tmp_path: Path) -> None:
    genome = tmp_path / "mine.json"
    genome.write_text(builtin("ema_cross", "BTC/USDT", "1h").to_json(), encoding="utf-8")
    doc = mt.json("backtest", str(genome))
    assert doc["strategy"] == "ema_cross" and doc["symbol"] == "BTC/USDT"


def test_batch_prints_one_line_per_genome_in_order(stored: SeriesKey, mt: MT, tmp_path: Path) -> None:
    names = ["sma_cross", "rsi_reversion", "breakout"]
    batch = tmp_path / "genomes.jsonl"
    batch.write_text(
        "\n".join(builtin(name).to_json(indent=None) for name in names) + "\n\n", encoding="utf-8"
    )
    result = mt("backtest", "--batch", str(batch), *SERIES)
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["name"] for line in lines] == names
    assert [line["index"] for line in lines] == [0, 1, 2]
    for line in lines:
        assert set(METRIC_KEYS) <= set(line)
        assert line["simulated"] is True and line["engine"] == "fast"
        assert line["wall_time_s"] == pytest.approx(line["signals_s"] + line["engine_s"])
        assert line["engine_s"] > 0
    single = mt.json("backtest", "rsi_reversion", *SERIES)
    assert metrics_of(lines[1]) == metrics_of(single)


def test_batch_with_json_prints_one_document_of_the_same_results(
    stored: SeriesKey, mt: MT, tmp_path: Path
) -> None:
    """``--json`` promises one JSON document on stdout: with ``--batch`` the lines become one array."""
    names = ["sma_cross", "breakout"]
    batch = tmp_path / "genomes.jsonl"
    batch.write_text("\n".join(builtin(name).to_json(indent=None) for name in names) + "\n", encoding="utf-8")
    lines = [json.loads(line) for line in mt("backtest", "--batch", str(batch), *SERIES).stdout.splitlines()]
    document = mt.json("backtest", "--batch", str(batch), *SERIES)
    assert isinstance(document, list)
    assert [item["name"] for item in document] == names
    assert [metrics_of(item) for item in document] == [metrics_of(line) for line in lines]


def test_batch_lines_carry_what_the_single_backtest_prints(stored: SeriesKey, mt: MT, tmp_path: Path) -> None:
    names = [
        "sma_cross",
        "rsi_reversion",
    ]  # on this series the first ends with a position open, the second flat
    batch = tmp_path / "genomes.jsonl"
    batch.write_text("\n".join(builtin(name).to_json(indent=None) for name in names) + "\n", encoding="utf-8")
    result = mt("backtest", "--batch", str(batch), *SERIES, "--cash", "500", "--fee", "0.002")
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    for name, line in zip(names, lines, strict=True):
        single = mt.json("backtest", name, *SERIES, "--cash", "500", "--fee", "0.002")
        missing = set(single) - set(line)
        assert not missing, f"batch lines lack {sorted(missing)}"
        for key in set(single) - {"wall_time_s"}:
            assert line[key] == single[key], key
    assert [line["open_trade"] for line in lines] == [True, False]


def test_no_trades_says_when_the_warm_up_ate_the_bars(stored: SeriesKey, mt: MT, tmp_path: Path) -> None:
    late = ["--start", "2024-12-31T00:00:00Z"]  # 24 bars: sma_cross's 30-bar SMA never warms up
    result = mt("backtest", "sma_cross", *SERIES, *late, "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["bars"], doc["trades"], doc["open_trade"], doc["warmup_bars"]) == (24, 0, False, 30)
    assert "needs 30 bars of indicator warm-up" in doc["no_trades_reason"]
    assert "this series has 24" in doc["no_trades_reason"]
    assert doc["no_trades_reason"] in result.stderr
    traded = mt.json("backtest", "sma_cross", *SERIES)
    assert traded["no_trades_reason"] is None and traded["warmup_bars"] == 30

    batch = tmp_path / "genomes.jsonl"
    batch.write_text(builtin("sma_cross").to_json(indent=None) + "\n", encoding="utf-8")
    result = mt("backtest", "--batch", str(batch), *SERIES, *late)
    assert result.exit_code == 0, result.stderr
    [line] = [json.loads(line) for line in result.stdout.splitlines()]
    assert line["no_trades_reason"] == doc["no_trades_reason"]
    assert "1 of them made no trade" in result.stderr


def test_batch_with_a_bad_line_fails_before_any_work(stored: SeriesKey, mt: MT, tmp_path: Path) -> None:
    batch = tmp_path / "genomes.jsonl"
    good = builtin("sma_cross").to_json(indent=None)
    bad = json.dumps({"name": "broken", "entry": {">": [{"ind": "rsi", "length": 1}, 30]}, "exit": None})
    batch.write_text(f"{good}\n{bad}\n{good}\n", encoding="utf-8")
    result = mt("backtest", "--batch", str(batch), *SERIES)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"{batch}:2:" in result.stderr and "length" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no_such_strategy", *SERIES], "unknown strategy 'no_such_strategy'"),
        (["sma_cross", "--timeframe", "1h"], "missing --symbol"),
        (["sma_cross", "--symbol", "ETH/USDT", "--timeframe", "1h"], "no candles stored for ETH/USDT 1h"),
        (["sma_cross", *SERIES, "--fee", "0.5"], "invalid fee 0.5"),
        (["sma_cross", *SERIES, "--start", "2024-13-01"], "invalid --start date '2024-13-01'"),
        (["sma_cross", *SERIES, "--start", "2030-01-01"], "no candles of sim:BTC/USDT:1h between"),
        (["sma_cross", *SERIES, "--engine", "slow"], "'slow'"),
        (["sma_cross", *SERIES, "--plot", "chart.png"], "invalid chart file 'chart.png'"),
        ([*SERIES], "missing STRATEGY"),
    ],
)
def test_bad_input_exits_2_naming_the_value(stored: SeriesKey, mt: MT, args: list[str], message: str) -> None:
    result = mt("backtest", *args, "--json")
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--executor", "threads"), "unknown executor 'threads' for --batch: choose local or dask"),
        (("--executor", "local", "--scheduler", "tcp://127.0.0.1:8786"), "needs --executor dask (not local)"),
        (
            ("--executor", "dask", "--scheduler", "localhost:8786"),
            "invalid scheduler address 'localhost:8786'",
        ),
    ],
)
def test_batch_refuses_a_bad_executor_or_scheduler_in_one_line(
    stored: SeriesKey, mt: MT, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    batch = tmp_path / "genomes.jsonl"
    batch.write_text(builtin("sma_cross").to_json(indent=None) + "\n", encoding="utf-8")
    result = mt("backtest", "--batch", str(batch), *args, *SERIES)
    assert result.exit_code == 2 and result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("mt: error:") and message in line, line


def test_batch_on_a_scheduler_nothing_listens_on_fails_at_once_in_one_line(
    stored: SeriesKey, mt: MT, tmp_path: Path
) -> None:
    import socket
    import time

    pytest.importorskip("distributed")
    with socket.socket() as sock:  # a free loopback port, released: nothing listens there
        sock.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{sock.getsockname()[1]}"
    batch = tmp_path / "genomes.jsonl"
    batch.write_text(builtin("sma_cross").to_json(indent=None) + "\n", encoding="utf-8")
    started = time.monotonic()
    result = mt("backtest", "--batch", str(batch), "--executor", "dask", "--scheduler", address, *SERIES)
    assert time.monotonic() - started < 10  # dask's client alone would retry for 20 s
    assert result.exit_code == 1 and result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"mt: error: cannot reach the dask scheduler at {address}"), line
