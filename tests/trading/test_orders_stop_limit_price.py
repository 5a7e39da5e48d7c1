"""`mt orders` shows a live stop-limit at its trigger, with its limit beside it: a `--stop-loss 0.05` of
a buy at 40,000 rests at the exchange as a stop at 38,000 with a limit at 37,620, and the table showed
only 37620 in its price column, read as the stop."""

from __future__ import annotations

import time

from tests.conftest import MT
from tests.fakes.exchange_trading import TradingExchange
from tests.trading.conftest import ThreadedTrading
from tests.trading.test_cli_live import BTC, live_daemon, wait_for_account

__all__ = ["live_daemon"]


def test_a_stop_limit_shows_its_trigger_and_its_limit(
    mt: MT, live_daemon: ThreadedTrading, desk: TradingExchange
) -> None:
    wait_for_account(mt)
    bought = mt("trade", "buy", BTC, "0.1", "--live", "--stop-loss", "0.05", "--json")
    assert bought.exit_code == 0, bought.stderr
    for _ in range(200):
        stops = [o for o in mt.json("orders", "--open") if o["role"] == "stop_loss"]
        if stops and stops[0]["state"] == "open":
            break
        time.sleep(0.05)
    (stop,) = stops
    assert stop["stop_price"] == 38_000.0 and stop["price"] < 38_000.0
    table = mt("orders", "--open")
    assert f"38000 (limit {stop['price']:.8g})" in table.stdout.replace("\n", " "), table.stdout
