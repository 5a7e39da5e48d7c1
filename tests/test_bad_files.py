"""Files and settings a human hands over that are not what they should be: one line `mt: error: ...`
naming the file, exit 2, nothing written. And what MasterTrade writes itself is private: the database and
the logs are created 0600 in 0700 folders."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import pytest

from tests.conftest import MT

HEADER = "timestamp,open,high,low,close,volume\n"


def _one_line(result: object, *needles: str) -> None:
    stderr = result.stderr  # type: ignore[attr-defined]
    assert result.exit_code == 2, stderr  # type: ignore[attr-defined]
    assert stderr.startswith("mt: error: ") and stderr.count("\n") == 1, stderr
    for needle in needles:
        assert needle in stderr


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("binary.csv", bytes(range(256)) * 8, "binary file"),
        ("noise.csv", bytes(range(128, 256)) * 8, "not UTF-8 text"),
        ("nul.csv", HEADER.encode() + b"2026-01-01T00:00:00Z,1,2,0.5,1.5,10\x00\n", "binary file"),
        (
            "latin1.csv",
            HEADER.encode() + "2026-01-01T00:00:00Z,1,2,0.5,1.5,10 \u00e9\n".encode("latin-1"),
            ":2:",
        ),
        # as data.binance.vision serves its kline files, and as a CSV is often gzipped
        ("BTCUSDT-1h-2024-01.zip", b"PK\x03\x04" + bytes(100), "a zip archive (as data.binance.vision"),
        ("candles.csv.gz", b"\x1f\x8b\x08\x00" + bytes(100), "a gzip file, not a CSV: unpack it"),
    ],
)
def test_a_csv_that_is_not_utf8_text_is_refused(
    mt: MT, mt_home: Path, tmp_path: Path, name: str, content: bytes, needle: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = mt("data", "import", str(path), "--symbol", "BTC/USDT", "--timeframe", "1h")
    _one_line(result, name, needle)
    assert mt.json("data", "list") == []


@pytest.mark.parametrize(
    "content", [b"\x89PNG\r\n\x1a\n" + bytes(200), b"[db]\nurl = '\xff\xfe'\n", b"a = 1\x00"]
)
def test_a_config_file_that_is_not_text_is_refused(mt: MT, mt_home: Path, content: bytes) -> None:
    config = mt_home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_bytes(content)
    _one_line(mt("config", "show"), str(config))


@pytest.mark.parametrize(
    "value", ["file:///etc/passwd", "ftp://example.com", "javascript:alert(1)", "example.com"]
)
def test_an_api_url_must_be_http(mt: MT, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("MT_EXCHANGE__API_URL", value)
    _one_line(mt("config", "show"), "MT_EXCHANGE__API_URL", value)


def test_an_https_api_url_is_fine(mt: MT, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT_EXCHANGE__API_URL", "https://testnet.binance.vision/api")
    assert mt("config", "show").exit_code == 0


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("MT_EXCHANGE__API_URL", "http://127.0.0.1:99999", "port '99999' is not a number from 1 to 65535"),
        ("MT_EXCHANGE__API_URL", "https://127.0.0.1:0/api", "port '0' is not a number from 1 to 65535"),
        ("MT_EXCHANGE__API_URL", "http://:8080", "it names no host"),
        ("MT_EXCHANGE__WS_URL", "wss://127.0.0.1:70000/ws", "port '70000' is not a number from 1 to 65535"),
        ("MT_EXCHANGE__WS_URL", "https://stream.example.com/ws", "expected a wss:// or ws:// URL"),
    ],
)
def test_an_exchange_url_that_names_no_place_to_connect_to_is_refused(
    mt: MT, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, reason: str
) -> None:
    """A port past 65535 was taken, and `mt data download` ended its first request in a traceback
    ("ValueError: Port out of range 0-65535"); a ws_url of any scheme was taken until the daemon used it."""
    monkeypatch.setenv(variable, value)
    _one_line(mt("config", "show"), variable, reason, value)
    _one_line(mt("data", "download", "BTC/USDT", "--since", "2024-01-01"), variable, reason)


def test_exchange_urls_with_a_port_are_fine(mt: MT, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MT_EXCHANGE__API_URL", "http://127.0.0.1:65535/api")
    monkeypatch.setenv("MT_EXCHANGE__WS_URL", "ws://[::1]:1/ws")
    assert mt("config", "show").exit_code == 0


def test_an_absurd_genome_is_refused(mt: MT, tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"entry": ' + "[" * 100_000 + "]" * 100_000 + "}")
    _one_line(mt("backtest", str(deep), "--symbol", "BTC/USDT", "--timeframe", "1h"), "deep.json", "nested")
    huge = tmp_path / "huge.json"
    huge.write_text(json.dumps({"name": "x", "entry": {"all": [{"ind": "rsi", "length": 14}] * 100_000}}))
    _one_line(
        mt("backtest", str(huge), "--symbol", "BTC/USDT", "--timeframe", "1h"), "huge.json", "too large"
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_and_the_logs_are_private(mt: MT, mt_home: Path, tmp_path: Path) -> None:
    from mastertrade.config import load_settings
    from mastertrade.engine.services.logs import setup_logging

    assert mt("init").exit_code == 0
    database = mt_home / "data" / "mastertrade.db"
    assert _mode(database) == 0o600 and _mode(database.parent) == 0o700
    for extra in (database.with_name("mastertrade.db-wal"), database.with_name("mastertrade.db-shm")):
        if extra.exists():
            assert _mode(extra) == 0o600

    log_file = tmp_path / "fresh" / "logs" / "daemon.log"
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        setup_logging(load_settings(), log_file, stderr=False)
        logging.getLogger("mastertrade.test").warning("hello")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
    assert _mode(log_file) == 0o600 and _mode(log_file.parent) == 0o700
    assert os.stat(log_file).st_size > 0
