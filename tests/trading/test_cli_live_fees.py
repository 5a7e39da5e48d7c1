"""`mt orders show` of a live order whose fills paid their fees in USDT and then in BNB: each fee in its
asset, and no USDT total the daemon cannot know (it follows no BNB price), rather than 1.56 + 0.00234."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.conftest import MT
from tests.fakes.exchange_trading import TradingExchange
from tests.trading.conftest import ThreadedTrading
from tests.trading.test_cli_live import BTC, live_daemon, wait_for_account

__all__ = ["live_daemon"]  # the fixture, used here by name


@pytest.fixture
def desk_options() -> dict[str, Any]:
    return {"balances": {"USDT": 100_000.0, "BNB": 10.0}}


def test_an_order_s_fees_in_two_assets_are_shown_each_in_its_asset(
    mt: MT, live_daemon: ThreadedTrading, desk: TradingExchange
) -> None:
    wait_for_account(mt)
    placed = mt.json("trade", "buy", BTC, "0.1", "--type", "limit", "--price", "39000", "--live")
    order = placed["order"]
    desk.fill_part(order["client_order_id"], 0.04)
    desk.fee_asset = "BNB"
    desk.fill_part(order["client_order_id"], 0.03)
    for _ in range(200):  # the daemon's next poll sees the fills
        shown = mt.json("orders", "show", str(order["id"]))
        if shown["filled"] == pytest.approx(0.07):
            break
        time.sleep(0.05)
    assert shown["fees"] == pytest.approx({"USDT": 1.56, "BNB": 0.00234})
    assert shown["fee"] is None  # was 1.56234
    table = mt("orders", "show", str(order["id"]))
    assert table.exit_code == 0, table.stderr
    assert "1.56 USDT + 0.00234 BNB (no USDT price for BNB: not added" in table.stdout  # wraps at "up)"


def test_fees_in_an_asset_without_a_price_are_named_beside_the_p_and_l(
    mt: MT, live_daemon: ThreadedTrading, desk: TradingExchange
) -> None:
    wait_for_account(mt)
    desk.fee_asset = "BNB"  # BNB pays the fees; the daemon follows no BNB market
    assert mt("trade", "buy", BTC, "0.1", "--live").exit_code == 0
    for _ in range(200):
        balance = mt.json("balance")
        if balance["balances"].get("BTC"):
            break
        time.sleep(0.05)
    assert balance["unpriced_fees"] == pytest.approx({"BNB": 0.008})
    [position] = mt.json("positions")
    assert position["unpriced_fees"] == pytest.approx({"BNB": 0.008}) and position["fees"] == 0.0
    shown = mt("balance")
    assert "realised P&L leaves out fees of 0.008 BNB: the daemon had no USDT price for them" in shown.stderr
    listed = mt("positions")
    assert "BTC/USDT: realised leaves out fees of 0.008 BNB (no price for them)" in listed.stderr
