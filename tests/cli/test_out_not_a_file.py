"""`--out` naming a device or a pipe is refused up front: the file is written whole beside it and
renamed into place, and the rename replaced the device or pipe itself. Run as root, `mt data export
BTC/USDT --timeframe 1h --out /dev/full --force` said "exported 2000 candles" and left /dev/full a
regular file holding them (`/dev/stdout`, a link, likewise). A FIFO stands in for the device here, so
the test cannot harm the machine's own /dev on code without the check."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import MT


@pytest.fixture
def pipe(tmp_path: Path) -> Path:
    path = tmp_path / "out.csv"
    os.mkfifo(path)
    return path


def test_data_export_to_a_pipe_is_refused_and_the_pipe_kept(mt: MT, pipe: Path) -> None:
    sim = mt("data", "sim", "BTC/USDT", "--bars", "100")
    assert sim.exit_code == 0, sim.stderr
    result = mt("data", "export", "BTC/USDT", "--timeframe", "1h", "--out", str(pipe), "--force")
    assert result.exit_code == 2
    assert result.stderr == (
        f"mt: error: cannot write {str(pipe)!r}: it is a device or a pipe, not a file (a file is written"
        " whole and renamed into place)\n"
    )
    assert pipe.is_fifo()


def test_strategy_export_to_a_pipe_is_refused_and_the_pipe_kept(mt: MT, pipe: Path) -> None:
    sim = mt("data", "sim", "BTC/USDT", "--bars", "300")
    assert sim.exit_code == 0, sim.stderr
    added = mt.json("strategy", "add", "sma_cross", "--symbol", "BTC/USDT", "--timeframe", "1h")
    result = mt("strategy", "export", added["id"], "--out", str(pipe), "--force")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"mt: error: cannot write {str(pipe)!r}: it is a device or a pipe")
    assert pipe.is_fifo()
