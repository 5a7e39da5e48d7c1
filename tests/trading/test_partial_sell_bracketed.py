"""A partial sell of a bracketed paper position resizes its exits to what is left and sells.

It was refused ("which a partial sell does not resize: sell all 10 ... or cancel them first ... and sell
4"): the trader had to leave the position without its stop between two commands to take part of it off.
Now the exits are cancelled and placed again at their levels for the rest, in one journal transaction with
the sell, and the answer says so. A sell the risk check refuses leaves the exits as they were."""

from __future__ import annotations

import pytest

from mastertrade.engine.api.schemas_trading import OrderCreate
from mastertrade.engine.execution.bracket_sell import SOLD_BY_HAND
from mastertrade.errors import RiskRejected
from tests.conftest import MT
from tests.trading.conftest import ThreadedTrading, TradingEngine
from tests.trading.test_cli import BTC, push, wait_for


async def test_a_partial_sell_resizes_the_exits_to_what_is_left(trading: TradingEngine) -> None:
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

        # the dry run checks it on the book as it will be (it said "all reserved")
        checked = await client.check_order(OrderCreate(symbol=BTC, side="sell", amount=4))
        assert (checked.verdict, checked.amount) == ("approve", 4)
        assert (await client.order(stop.id)).state == "open"  # a dry run touches nothing

        sold = await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=4))

        assert sold.risk.verdict == "approve" and sold.order.state == "open"
        new_stop, new_take = sorted(
            (o for o in await client.orders(open_only=True) if o.parent_id == entry.order.id),
            key=lambda o: o.role,
        )
        assert (new_stop.role, new_take.role) == ("stop_loss", "take_profit")
        assert new_stop.amount == new_take.amount == pytest.approx(6)
        assert (new_stop.stop_price, new_take.price) == (stop.stop_price, take.price)
        assert sold.exits == (
            f"its exits order {stop.id} (stop-loss), order {take.id} (take-profit) were resized to 6 "
            f"BTC/USDT: order {new_stop.id} (stop-loss), order {new_take.id} (take-profit)"
        )
        for old in (stop, take):
            row = await client.order(old.id)
            assert row.state == "cancelled"
            assert row.reason == (
                f"{SOLD_BY_HAND}{sold.order.id}: resized to 6 BTC/USDT as orders {new_stop.id} and "
                f"{new_take.id}"
            )
        await trading.bar(BTC, 2, 100, 101, 99, 100)
        assert (await client.order(sold.order.id)).state == "filled"
        (position,) = await client.positions()
        assert position.amount == pytest.approx(6)

        # the rest is still protected: the stop sells it, its take-profit goes with it (one group)
        await trading.bar(BTC, 3, 100, 100, 90, 91)
        assert (await client.order(new_stop.id)).state == "filled"
        assert (await client.order(new_take.id)).state == "cancelled"
        assert await client.positions() == []


async def test_a_sell_the_risk_check_refuses_leaves_the_exits_as_they_were(trading: TradingEngine) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    async with trading.client() as client:
        entry = await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=10, stop_loss=0.05))
        await trading.bar(BTC, 1, 100, 101, 99, 100)
        [stop] = [o for o in await client.orders(open_only=True) if o.parent_id == entry.order.id]
        with pytest.raises(RiskRejected, match="10.5"):  # more than held: not cut for a human
            await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=10.5))
        assert (await client.order(stop.id)).state == "open"
        assert [o.id for o in await client.orders(open_only=True)] == [stop.id]


async def test_a_sell_that_fits_beside_the_exits_leaves_them_alone(trading: TradingEngine) -> None:
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    async with trading.client() as client:
        await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=4))
        await trading.bar(BTC, 1, 100, 101, 99, 100)
        entry = await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=6, stop_loss=0.05))
        await trading.bar(BTC, 2, 100, 101, 99, 100)
        [stop] = [o for o in await client.orders(open_only=True) if o.parent_id == entry.order.id]
        sold = await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=4))
        assert sold.exits is None
        assert (await client.order(stop.id)).state == "open" and stop.amount == pytest.approx(6)


def test_mt_trade_sell_of_part_says_what_became_of_the_exits(mt: MT, daemon: ThreadedTrading) -> None:
    push(daemon, 0, 100.0)
    wait_for(mt, lambda data: data["equity"] == 100_000.0, "balance")
    mt.json("trade", "buy", BTC, "10", "--stop-loss", "0.05", "--wait", "0")
    push(daemon, 1, 100.0)
    wait_for(mt, lambda data: len(data) == 1, "positions")
    [stop] = [o for o in mt.json("orders") if o["role"] == "stop_loss"]
    sold = mt("trade", "sell", BTC, "4", "--wait", "0")
    assert sold.exit_code == 0, sold.stderr
    assert f"its exits order {stop['id']} (stop-loss) were resized to 6 BTC/USDT: order " in sold.stdout
    [new] = [o for o in mt.json("orders") if o["role"] == "stop_loss" and o["state"] == "open"]
    assert new["amount"] == pytest.approx(6) and new["stop_price"] == stop["stop_price"]


async def test_with_two_sets_of_exits_the_newest_goes_and_the_oldest_is_resized(
    trading: TradingEngine,
) -> None:
    """Two bracketed buys of one symbol: the sell takes the newest set whole and resizes the oldest to
    what is left, at its own levels (before, both sets were merged into one group for the rest)."""
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    async with trading.client() as client:
        first = await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=10, stop_loss=0.05))
        await trading.bar(BTC, 1, 100, 101, 99, 100)
        second = await client.place_order(OrderCreate(symbol=BTC, side="buy", amount=10, stop_loss=0.2))
        await trading.bar(BTC, 2, 100, 101, 99, 100)
        [old] = [o for o in await client.orders(open_only=True) if o.parent_id == first.order.id]
        [new] = [o for o in await client.orders(open_only=True) if o.parent_id == second.order.id]

        sold = await client.place_order(OrderCreate(symbol=BTC, side="sell", amount=15))
        await trading.bar(BTC, 3, 100, 101, 99, 100)

        assert (await client.order(sold.order.id)).state == "filled"
        [resized] = await client.orders(open_only=True)
        assert resized.amount == pytest.approx(5) and resized.stop_price == old.stop_price
        assert (await client.order(new.id)).state == "cancelled"
        assert (await client.order(old.id)).state == "cancelled"
        assert sold.exits == (
            f"its exits order {old.id} (stop-loss) were resized to 5 BTC/USDT: order {resized.id} "
            f"(stop-loss); order {new.id} (stop-loss) were cancelled"
        )
        assert "cancelled, the sell took what it covered" in ((await client.order(new.id)).reason or "")
