"""A refused value is quoted in part: `mt risk resume --breaker` with a 100,000-character name had the
daemon paste all of it back (and the CLI print it); an error now quotes its first 80 characters and
says how long it was, through the API and on the CLI's `mt: error:` line."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mastertrade.config import Settings
from mastertrade.quoting import shorten_inputs, shown
from tests.conftest import MT
from tests.trading.conftest import trading_settings

LONG = "x" * 100_000
QUOTED = "'" + "x" * 80 + "…' (100,000 characters)"


@pytest.fixture
def settings(mt_home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("MT_DB__URL", f"sqlite+aiosqlite:///{mt_home}/data/test.db")
    return trading_settings()


async def test_the_api_quotes_a_long_breaker_name_in_part(raw: httpx.AsyncClient) -> None:
    refused = await raw.post("/v1/risk/resume", json={"breaker": LONG})
    assert refused.status_code == 400, refused.text[:300]
    message = refused.json()["error"]["message"]
    assert message.startswith(f"unknown breaker {QUOTED}: expected one of "), message[:300]
    assert len(message) < 400
    short = await raw.post("/v1/risk/resume", json={"breaker": "nope"})
    assert short.json()["error"]["message"].startswith("unknown breaker 'nope': expected one of ")


def test_the_cli_error_line_quotes_a_long_argument_in_part(mt: MT) -> None:
    result = mt("backtest", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", LONG)
    assert result.exit_code == 2, result.output[:300]
    assert result.stderr.startswith(f"mt: error: invalid timeframe {QUOTED}: "), result.stderr[:300]
    assert result.stderr.count("\n") == 1 and len(result.stderr) < 300


def test_shortening_touches_only_long_values() -> None:
    assert shown("abc") == "'abc'"
    assert shown(LONG) == QUOTED
    assert shorten_inputs("bad 'abc' here", ["abc"]) == "bad 'abc' here"
    assert shorten_inputs(f"bad {LONG.upper()} here", [LONG]) == f"bad {'X' * 80}… (100,000 characters) here"
    assert shorten_inputs(f'bad "{LONG}"', [LONG]) == 'bad "' + "x" * 80 + '…" (100,000 characters)'


def test_a_value_a_file_system_takes_is_named_whole() -> None:
    # A file's path in a temporary folder runs past 80 characters: an error about it must name it all
    # (the file name is at its end). Only what no file name takes is shortened.
    path = "/tmp/pytest-of-root/pytest-448/test_a_csv_that_is_not_utf8_te4/BTCUSDT-1h-2024-01.zip"
    name = "n" * 255
    assert shown(path) == repr(path)
    assert shorten_inputs(f"mt: error: {path}: a zip archive", [path]) == f"mt: error: {path}: a zip archive"
    assert shorten_inputs(f"bad {name!r}", [name]) == f"bad {name!r}"
    assert shown("n" * 256) == "'" + "n" * 80 + "…' (256 characters)"
