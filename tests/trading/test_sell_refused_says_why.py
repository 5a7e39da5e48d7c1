"""`mt trade sell --live` of a bracketed position while its stop is selling, or while its buy is still
filling: refused, saying what is happening, naming the order, and what to do, with commands that work.

Before, both were told "... which cannot be replaced now: order N has sold 0.03 already (it is selling:
let it end first); cancel them first (`mt orders cancel N --unprotect`), then sell; or leave them to
close it" (the buy's case likewise): the first named no figure and offered the cancel of a stop as the
way, without saying it leaves the position bare; the second offered the stop's cancel instead of the
buy's, which leaves the position protected.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.conftest import MT
from tests.fakes.exchange_trading import TradingExchange
from tests.trading.test_cli_live import live_daemon, wait_for_account  # noqa: F401 - the live daemon

BTC = "BTC/USDT"
pytestmark = pytest.mark.usefixtures("live_daemon")


def _until(mt: MT, check: Any, what: str) -> list[dict[str, Any]]:
    """``mt orders`` once ``check`` holds for it (the daemon polls the exchange every 0.2 s)."""
    for _ in range(400):
        orders: list[dict[str, Any]] = mt.json("orders")
        if check(orders):
            return orders
        time.sleep(0.05)
    raise AssertionError(f"never: {what}")


def _order(orders: list[dict[str, Any]], order_id: int) -> dict[str, Any]:
    return next(o for o in orders if o["id"] == order_id)


def test_a_sell_while_the_stop_is_selling_says_to_wait_for_it_or_stop_it(
    mt: MT,
    desk: TradingExchange,
) -> None:
    wait_for_account(mt)
    bought = mt("trade", "buy", BTC, "0.1", "--live", "--stop-loss", "0.05", "--take-profit", "0.1")
    assert bought.exit_code == 0, bought.stderr
    orders = _until(
        mt, lambda rows: any(o["role"] == "stop_loss" and o["state"] == "open" for o in rows), "exits"
    )
    [stop] = [o for o in orders if o["role"] == "stop_loss"]
    [resting] = desk.orders_for(stop["client_order_id"])
    desk.set_price(BTC, 37_000.0)  # under the stop and its limit: triggered, resting as a limit
    with desk._desk:  # a buyer takes 0.03 of it at its limit
        desk._fill(resting, 0.03, resting.price or 0.0, locked=True)
    _until(mt, lambda rows: _order(rows, stop["id"])["state"] == "partially_filled", "the stop's part")

    refused = mt("trade", "sell", BTC, "0.05", "--live")

    assert refused.exit_code == 2
    assert refused.stderr.strip() == (
        f"mt: error: sell of 0.05 {BTC}: its stop-loss order {stop['id']} has triggered and is selling the "
        f"position (0.03 of 0.1 sold so far): wait for it to end (`mt orders show {stop['id']}`), then sell "
        f"what it leaves; or stop it with `mt orders cancel {stop['id']} --unprotect` (what is held is then "
        "without a stop) and sell"
    )
    assert mt("orders", "show", str(stop["id"])).exit_code == 0
    stopped = mt("orders", "cancel", str(stop["id"]), "--unprotect")
    assert stopped.exit_code == 0, stopped.output
    sold = mt("trade", "sell", BTC, "0.07", "--live", "--json")
    assert sold.exit_code == 0, sold.output
    assert json.loads(sold.stdout)["order"]["state"] == "filled"
    assert mt.json("positions") == []


def test_a_sell_while_the_buy_is_filling_says_to_wait_for_it_or_cancel_its_rest(
    mt: MT,
    desk: TradingExchange,
) -> None:
    wait_for_account(mt)
    placed = mt(
        "trade", "buy", BTC, "0.1", "--live", "--type", "limit", "--price", "39000", "--stop-loss", "0.05",
        "--json", "--wait", "0",
    )  # fmt: skip
    assert placed.exit_code in (0, 1), placed.output
    entry = next(o for o in mt.json("orders") if o["side"] == "buy")
    desk.fill_part(entry["client_order_id"], 0.03)
    _until(
        mt,
        lambda rows: any(o["role"] == "stop_loss" and o["state"] == "open" for o in rows),
        "the filled part's stop",
    )

    refused = mt("trade", "sell", BTC, "0.01", "--live")

    assert refused.exit_code == 2
    [stop] = [o for o in mt.json("orders") if o["role"] == "stop_loss" and o["state"] == "open"]
    assert refused.stderr.strip() == (
        f"mt: error: sell of 0.01 {BTC}: its buy order {entry['id']} is still filling (0.03 of 0.1 bought "
        f"so far) and its exits (order {stop['id']} (stop-loss)) grow with each fill, so they cannot be "
        f"replaced meanwhile: wait for order {entry['id']} to fill (`mt orders show {entry['id']}`), or "
        f"cancel the rest of it with `mt orders cancel {entry['id']}` (its exits keep protecting what it "
        "bought), then sell"
    )
    cancelled = mt("orders", "cancel", str(entry["id"]))
    assert cancelled.exit_code == 0, cancelled.output
    # what it bought keeps one stop at its level (its exits merged into one set as the buy ended)
    [kept] = [o for o in mt.json("orders") if o["role"] == "stop_loss" and o["state"] == "open"]
    assert kept["amount"] == pytest.approx(0.03) and kept["stop_price"] == stop["stop_price"]

    sold = mt("trade", "sell", BTC, "0.01", "--live")

    assert sold.exit_code == 0, sold.output
    [resized] = [o for o in mt.json("orders") if o["role"] == "stop_loss" and o["state"] == "open"]
    assert resized["amount"] == pytest.approx(0.02) and resized["stop_price"] == stop["stop_price"]
