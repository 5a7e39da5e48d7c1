"""`mt trade` says the amount it placed and filled as the order holds it: `mt trade sell BTC/USDT
0.43298713` printed "sell 0.432987 ... 0.432987 filled" (six digits), while `mt orders` said 0.43298713."""

from __future__ import annotations

from tests.conftest import MT
from tests.trading.conftest import ThreadedTrading
from tests.trading.test_cli import BTC, push, wait_for


def test_the_amount_is_shown_to_the_last_digit(mt: MT, daemon: ThreadedTrading) -> None:
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    result = mt("trade", "buy", BTC, "0.12345678", "--client-order-id", "x1", "--wait", "0")
    assert result.exit_code == 0, result.stderr
    assert "buy 0.12345678 BTC/USDT market" in result.stdout
    push(daemon, 1, 100.0)
    wait_for(mt, lambda data: data["state"] == "filled", "orders", "show", "x1")
    again = mt("trade", "buy", BTC, "0.12345678", "--client-order-id", "x1", "--wait", "0")  # placed once
    assert "buy 0.12345678 BTC/USDT market" in again.stdout and "0.12345678 filled" in again.stdout
    refused = mt("trade", "sell", BTC, "0.12345678", "--client-order-id", "x1")
    assert refused.exit_code == 2 and "(buy 0.12345678 BTC/USDT market)" in refused.stderr
