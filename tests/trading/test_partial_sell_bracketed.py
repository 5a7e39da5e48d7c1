"""A partial sell of a bracketed paper position is refused with the way out: its exits hold every unit
and a partial sell does not resize them, so sell it all (the exits go with it) or cancel them first. It
was told "cancel one of them first", and the cancel of the stop was then refused with "sell the
position instead": two refusals pointing at each other."""

from __future__ import annotations

import pytest

from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.errors import RiskRejected
from tests.conftest import MT
from tests.trading.conftest import ThreadedTrading, TradingEngine
from tests.trading.test_cli import BTC, push, wait_for


async def test_a_partial_sell_names_the_exits_and_the_way_out(trading: TradingEngine) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    async with trading.client() as client:
        entry = await client.place_order(
            OrderCreate(symbol=BTC, side="buy", amount=10, stop_loss=0.05, take_profit=0.1)
        )
        await trading.bar(BTC, 1, 100, 101, 99, 100)
        stop, take = sorted(
            (o for o in await client.orders(open_only=True) if o.parent_id == entry.order.id),
            key=lambda o: o.role,
        )
        with pytest.raises(RiskRejected) as refused:
            await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=4))
        assert str(refused.value) == (
            "risk check rejected the order: sell of 4 BTC/USDT: the 10 held are reserved by its bracket "
            f"exits (order {stop.id} (stop-loss), order {take.id} (take-profit)), which a partial sell does "
            "not resize: sell all 10 (its exits are cancelled with it), or cancel them first "
            f"(`mt orders cancel {stop.id} --unprotect`, `mt orders cancel {take.id}`) and sell 4"
        )
        (audit,) = await client.risk_audit(limit=1)  # still the risk check's decision, audited
        assert audit.side == "sell" and audit.requested == 4 and "reserved" in audit.reason
        # the way out it names works
        await client.cancel_order(take.id)
        await client.cancel_order(stop.id, unprotect=True)
        sold = await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=4))
        await trading.bar(BTC, 2, 100, 101, 99, 100)
        assert (await client.order(sold.order.id)).state == "filled"
        (position,) = await client.positions()
        assert position.amount == pytest.approx(6)


def test_mt_trade_sell_of_part_says_the_same(mt: MT, daemon: ThreadedTrading) -> None:
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    mt.json("trade", "buy", BTC, "10", "--stop-loss", "0.05", "--wait", "0")
    push(daemon, 1, 100.0)
    wait_for(mt, lambda data: len(data) == 1, "positions")
    refused = mt("trade", "sell", BTC, "4")
    assert refused.exit_code == 1
    assert "which a partial sell does not resize: sell all 10" in refused.stderr
    assert refused.stderr.count("\n") == 1
