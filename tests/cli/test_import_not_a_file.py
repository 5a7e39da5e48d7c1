"""`mt data import` of a device or a pipe is refused naming it, before anything is read: `/dev/full` was
read as NUL bytes into memory until killed, and a pipe (`<(zcat bars.csv.gz)`, `/dev/stdin` fed by
`|`) ended in an `io.UnsupportedOperation` traceback when the file was read a second time. An
`--exchange` holding a newline or other control character is refused too: it was stored as a series'
exchange."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import MT

IMPORT = ["--symbol", "BTC/USDT", "--timeframe", "1h"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("device", ["/dev/full", "/dev/zero", "/dev/null"])
def test_a_device_is_refused_naming_it(mt: MT, device: str) -> None:
    result = mt("data", "import", device, *IMPORT)
    assert result.exit_code == 2
    assert result.stderr == f"mt: error: {device} is a device, not a file\n"


@pytest.mark.timeout(60)
def test_a_pipe_is_refused_naming_it(mt: MT, tmp_path: Path) -> None:
    pipe = tmp_path / "bars.csv"
    os.mkfifo(pipe)
    result = mt("data", "import", str(pipe), *IMPORT)
    assert result.exit_code == 2
    assert result.stderr == (
        f"mt: error: {pipe} is a pipe, not a file: save what it carries to a file and give that\n"
    )


@pytest.mark.parametrize("exchange", ["a\nb", "c\tsv", "x\x1b[31m"])
def test_an_exchange_with_a_control_character_is_refused(mt: MT, tmp_path: Path, exchange: str) -> None:
    path = tmp_path / "bars.csv"
    path.write_text("time,open,high,low,close,volume\n2026-01-01T00:00:00Z,1,2,0.5,1.5,10\n")
    result = mt("data", "import", str(path), *IMPORT, "--exchange", exchange)
    assert result.exit_code == 2
    assert result.stderr == (
        f"mt: error: invalid --exchange {exchange!r}: no newline, tab or other control character\n"
    )
    assert mt.json("data", "list") == []
