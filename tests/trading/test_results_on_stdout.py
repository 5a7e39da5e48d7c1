"""`mt orders cancel`, `mt risk status`, `mt risk halt` and `mt risk resume` print their result on stdout,
where a script reads it, as `mt trade` does: each printed it on stderr with stdout empty (`mt risk
status` its state line only, its tables already on stdout), so `state=$(mt risk status | head -1)` or
`mt orders cancel 7 | grep cancelled` caught nothing. Warnings and errors stay on stderr."""

from __future__ import annotations

from tests.conftest import MT
from tests.trading.conftest import ThreadedTrading
from tests.trading.test_cli import BTC, push, wait_for


def test_cancel_prints_the_cancelled_order_on_stdout(mt: MT, daemon: ThreadedTrading) -> None:
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    placed = mt.json("trade", "buy", BTC, "10", "--type", "limit", "--price", "90")["order"]
    cancelled = mt("orders", "cancel", str(placed["id"]))
    assert cancelled.exit_code == 0, cancelled.output
    assert cancelled.stdout.startswith(f"order {placed['id']} buy BTC/USDT: cancelled")
    assert cancelled.stdout.count("\n") == 1
    assert cancelled.stderr == ""


def _ready(mt: MT, daemon: ThreadedTrading) -> None:
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")


def test_risk_status_prints_its_state_line_on_stdout(mt: MT, daemon: ThreadedTrading) -> None:
    _ready(mt, daemon)
    shown = mt("risk", "status")
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith("trading (paper)\n")
    assert shown.stderr == ""


def test_risk_halt_prints_what_it_did_on_stdout(mt: MT, daemon: ThreadedTrading) -> None:
    _ready(mt, daemon)
    halted = mt("risk", "halt", "--reason", "scripted stop")
    assert halted.exit_code == 0, halted.output
    assert halted.stdout == "trading halted: scripted stop; exits remain allowed. `mt risk resume` ends it.\n"
    assert "trading halted" not in halted.stderr  # the breaker's logged warning is all it holds
    after = mt("risk", "status")
    assert after.stdout.startswith("HALTED (kill switch) (paper): scripted stop\n")
    assert after.stderr == ""


def test_risk_resume_prints_what_it_did_on_stdout(mt: MT, daemon: ThreadedTrading) -> None:
    _ready(mt, daemon)
    assert mt("risk", "halt").exit_code == 0
    resumed = mt("risk", "resume")
    assert resumed.exit_code == 0, resumed.output
    assert resumed.stdout == "trading resumed\n"
    assert resumed.stderr == ""
