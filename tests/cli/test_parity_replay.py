"""``mt strategy parity SPEC --symbol --timeframe --start [--end]``: a replay over stored candles says
when the market is simulated, and an --end that is not after --start is refused naming both."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import MT

BTC = "BTC/USDT"
REPLAY = ("strategy", "parity", "sma_cross", "--symbol", BTC, "--timeframe", "1h")


def _sim(mt: MT) -> None:
    result = mt(
        "data", "sim", BTC, "--timeframe", "1h", "--bars", "600", "--seed", "5", "--end", "2026-02-01"
    )
    assert result.exit_code == 0, result.stderr


def test_a_replay_on_the_simulated_market_says_so(mt: MT) -> None:
    _sim(mt)
    report = mt.json(*REPLAY, "--start", "2026-01-15")
    assert report["simulated"] is True and report["identical"]
    plain = mt(*REPLAY, "--start", "2026-01-15")
    assert plain.exit_code == 0, plain.stderr
    assert "replay of sim:BTC/USDT:1h (SIMULATED):" in plain.stderr


def test_an_end_before_the_start_is_refused_naming_both(mt: MT) -> None:
    _sim(mt)
    result = mt(*REPLAY, "--start", "2026-01-20", "--end", "2026-01-10")
    assert result.exit_code == 2
    assert result.stderr == "mt: error: invalid --end '2026-01-10': it must be after --start '2026-01-20'\n"
    same = mt(*REPLAY, "--start", "2026-01-20", "--end", "2026-01-20")
    assert same.exit_code == 2 and "invalid --end '2026-01-20'" in same.stderr


def test_a_name_no_daemon_strategy_has_says_how_to_replay_it(mt: MT, monkeypatch: pytest.MonkeyPatch) -> None:
    from mastertrade.cli import daemon
    from mastertrade.errors import NotFound

    def no_such_book(call: Any) -> Any:  # the daemon's answer for a name it does not trade
        raise NotFound("no paper or active strategy 'sma_cross' trades in this daemon")

    monkeypatch.setattr(daemon, "with_client", no_such_book)
    result = mt("strategy", "parity", "sma_cross")
    assert result.exit_code == 2
    assert result.stderr == (
        "mt: error: no paper or active strategy 'sma_cross' trades in this daemon; to replay a genome file"
        " or built-in over stored candles, give --symbol, --timeframe and --start\n"
    )
