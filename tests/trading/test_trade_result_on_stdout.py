"""`mt trade buy|sell` prints its result on stdout, where a script reads it, like every command's data:
it printed "order 1 buy 0.5 BTC/USDT market (paper): open ..." on stderr with stdout empty, so
`id=$(mt trade buy ...)` caught nothing. The status line while the order is followed, and errors, stay
on stderr."""

from __future__ import annotations

from tests.conftest import MT
from tests.trading.conftest import ThreadedTrading
from tests.trading.test_cli import BTC, push, wait_for


def test_the_orders_result_is_on_stdout_and_nothing_else_is(mt: MT, daemon: ThreadedTrading) -> None:
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    bought = mt("trade", "buy", BTC, "0.5", "--client-order-id", "out-1", "--wait", "0")
    assert bought.exit_code == 0, bought.output
    [order] = mt.json("orders")
    assert bought.stdout == (
        f"order {order['id']} buy 0.5 BTC/USDT market (paper): open; it fills at the next price: follow it"
        f" with `mt orders show {order['id']}`\n"
    )
    assert bought.stderr == ""
    push(daemon, 1, 100.0)
    wait_for(mt, lambda data: data["state"] == "filled", "orders", "show", "out-1")
    sold = mt("trade", "sell", BTC, "0.5", "--type", "limit", "--price", "150", "--wait", "0")
    assert sold.exit_code == 0, sold.output
    assert sold.stdout.startswith("order ") and " sell 0.5 BTC/USDT limit (paper): open" in sold.stdout
    assert sold.stderr == ""
