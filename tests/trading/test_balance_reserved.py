"""`mt balance` shows the cash the paper broker holds back for a resting buy as it holds it back: the
order's value and its fee, so reserved + free = cash, and the risk check's free cash is the broker's
(a buy the check lets through is not then refused by the broker for the fee it did not count)."""

from __future__ import annotations

import pytest

from mastertrade.engine.api.schemas_trading import OrderCreate
from tests.conftest import MT
from tests.trading.conftest import ThreadedTrading, TradingEngine
from tests.trading.test_cli import BTC, push, wait_for


async def test_reserved_is_what_the_paper_broker_holds_back(trading: TradingEngine) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    account = trading.trader.account
    async with trading.client() as client:
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=10, type="limit", price=95.0))
        balance = await client.balance()
    held_back = account.broker.reserved_cash()
    assert held_back == pytest.approx(10 * 95.0 * 1.001)
    assert balance.reserved == pytest.approx(held_back, rel=1e-12)
    assert balance.reserved + balance.free_cash == pytest.approx(balance.cash, rel=1e-12)
    portfolio = await account.portfolio()
    assert portfolio.free_cash == pytest.approx(balance.cash - held_back, rel=1e-12)
    assert portfolio.exposure == pytest.approx(10 * 95.0)  # the fee held back is cash, not exposure


def test_mt_balance_says_what_is_reserved_and_what_is_free(mt: MT, daemon: ThreadedTrading) -> None:
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    mt.json("trade", "buy", BTC, "10", "--type", "limit", "--price", "95")
    shown = mt("balance")
    assert shown.exit_code == 0, shown.stderr
    assert "cash = reserved 950.95 for open buys + free 99,049.05" in shown.stderr, shown.stderr
