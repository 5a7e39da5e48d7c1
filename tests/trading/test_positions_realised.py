"""`mt positions` shows each open position's own realised P&L and fees (since it opened), not the
symbol's over every earlier round trip: a fresh position after a closed losing trade has realised
nothing yet. The symbol's totals stay in `--json` (`symbol_realised_pnl`, `symbol_fees`)."""

from __future__ import annotations

import pytest

from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.engine.execution.ledger import Fill, Ledger
from tests.conftest import MT
from tests.trading.conftest import ThreadedTrading, TradingEngine
from tests.trading.test_cli import BTC, push, wait_for


def test_a_position_carries_its_own_realised_pnl_and_fees() -> None:
    ledger = Ledger()
    ledger.deposit("USDT", 10_000.0)
    ledger.apply(Fill(BTC, "buy", 2.0, 100.0, fee=0.2, ts=1))
    ledger.apply(Fill(BTC, "sell", 2.0, 90.0, fee=0.18, ts=2))  # a closed trade: -20.38
    ledger.apply(Fill(BTC, "buy", 1.0, 100.0, fee=0.1, ts=3))
    ledger.apply(Fill(BTC, "sell", 0.5, 110.0, fee=0.055, ts=4))  # this position's own partial sell
    (position,) = ledger.open_positions()
    shown = position.as_dict(110.0)
    assert shown["realised_pnl"] == pytest.approx(0.5 * 110 - 0.055 - 0.5 * 100.1)
    assert shown["fees"] == pytest.approx(0.1 + 0.055)
    assert shown["symbol_realised_pnl"] == pytest.approx(-20.38 + shown["realised_pnl"])
    assert shown["symbol_fees"] == pytest.approx(0.2 + 0.18 + 0.1 + 0.055)
    assert shown["opened_ts"] == 3


async def test_a_new_position_after_a_closed_trade_has_realised_nothing(trading: TradingEngine) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    async with trading.client() as client:
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=10, type="market"))
        await trading.bar(BTC, 1, 100, 101, 99, 100)
        await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=10, type="market"))
        await trading.bar(BTC, 2, 90, 91, 89, 90)
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=5, type="market"))
        await trading.bar(BTC, 3, 90, 91, 89, 90)
        (position,) = await client.positions()
        balance = await client.balance()
    assert position.amount == pytest.approx(5)
    assert position.realised_pnl == 0.0
    assert position.fees == pytest.approx(5 * 90 * 0.001)
    assert position.symbol_realised_pnl == pytest.approx(balance.realised_pnl)
    assert balance.realised_pnl < -100  # the closed trade lost 10 x 10 plus fees


def test_mt_positions_labels_realised_as_the_positions_own(mt: MT, daemon: ThreadedTrading) -> None:
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    mt.json("trade", "buy", BTC, "10", "--wait", "0")
    push(daemon, 1, 100.0)
    wait_for(mt, lambda data: len(data) == 1, "positions")
    mt.json("trade", "sell", BTC, "10", "--wait", "0")
    push(daemon, 2, 90.0)
    wait_for(mt, lambda data: data == [], "positions")
    mt.json("trade", "buy", BTC, "5", "--wait", "0")
    push(daemon, 3, 90.0)
    (row,) = wait_for(mt, lambda data: len(data) == 1, "positions")
    assert row["realised_pnl"] == 0.0 and row["symbol_realised_pnl"] < 0
    shown = mt("positions")
    assert shown.exit_code == 0, shown.stderr
    assert "opened" in shown.stdout and "2026-01-01T03:00:00Z" in shown.stdout, shown.stdout
    assert "realised: by each position's own sells since it opened" in shown.stderr
