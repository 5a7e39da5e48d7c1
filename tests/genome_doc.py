"""A genome document as a trader writes one by hand (RSI in, RSI out, a stop): the JSON the tests of genome
files and `--batch` lines write out in their own ways (pretty-printed, with a byte order mark, a key
repeated). Read only; a test that needs another document builds it from this one."""

from __future__ import annotations

from typing import Any

GENOME: dict[str, Any] = {
    "name": "mine",
    "symbol": "BTC/USDT",
    "timeframe": "1h",
    "entry": {"crosses_above": [{"ind": "rsi", "length": 14}, 30]},
    "exit": {">": [{"ind": "rsi", "length": 14}, 70]},
    "stop_loss": 0.1,
}
