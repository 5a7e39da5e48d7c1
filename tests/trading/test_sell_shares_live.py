"""A live sell by hand (``mt trade sell --live``, ``POST /v1/orders``) of a symbol held by two strategies
whose exits only the daemon keeps (``[execution] native_stops = false``: nothing rests at the exchange for
them): "guarded" and "watched", each with its stop-loss and take-profit.

A sell taking the coins of both said each one's share ("... in that order: all of strategy guarded's
0.125 (its protection ends with the position), 0.03 of strategy watched's ...") but was booked as the
account's own: both strategies kept counting what it sold of theirs (their positions added up to more than
the account held), "guarded"'s protection did not end, and "watched"'s watched more than was its. Now the
sell carries each owner's share (``order_shares``): its fills are shared out in the order the answer
names, each part with its share of the fees, each strategy's position drops by its share, and their
protections follow; a restarted daemon folds the same positions from the journal, and a partial fill goes
to the first owner first.
"""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.engine.execution.trader import Trader
from tests.fakes.exchange_trading import TradingExchange
from tests.trading.live_rig import hand_sells, open_desk
from tests.trading.second_strategy import desk_beside
from tests.trading.test_live_protection import BTC, Desk

TAKE = 0.03
"""What the sells take of "watched"'s position, after all of "guarded"'s (on the lot step)."""


@pytest.fixture
def exchange() -> Any:
    yield from open_desk()


@pytest.fixture
async def desk(database: Any, exchange: TradingExchange) -> Any:
    async for desk in desk_beside(database, exchange, "watched", native=False):
        yield desk


async def _both(desk: Desk) -> tuple[Trader, float, float]:
    """Both strategies' entries on one up bar; what each holds."""
    trader = await desk.run()
    await desk.close_bar(trader, 39_600.0, 40_040.0, 39_400.0, 40_000.0)
    guarded = await trader.account.strategy_holding("guarded", BTC)
    watched = await trader.account.strategy_holding("watched", BTC)
    assert guarded > TAKE and watched > TAKE
    assert (await trader.account.holdings())[BTC] == pytest.approx(guarded + watched)
    return trader, guarded, watched


async def _holdings(trader: Trader) -> tuple[float, float, float]:
    """What "guarded" and "watched" hold, and what the account holds (``mt positions``)."""
    account = trader.account
    positions = await account.positions()
    return (
        await account.strategy_holding("guarded", BTC),
        await account.strategy_holding("watched", BTC),
        sum(p["amount"] for p in positions if p["symbol"] == BTC),
    )


async def _protections(desk: Desk) -> dict[str, tuple[str, str | None]]:
    return {str(row.strategy_id): (row.state, row.reason) for row in await desk.protections()}


async def test_a_sell_of_both_positions_drops_each_by_its_share_and_their_protections_follow(
    desk: Desk,
) -> None:
    trader, guarded, watched = await _both(desk)
    amount = float(f"{guarded + TAKE:.8g}")
    left = watched - TAKE

    answer = await trader.account.place(BTC, "sell", amount, live=True)

    order = answer["order"]
    assert order["state"] == "filled" and order["strategy_id"] is None
    assert answer["exits"] == (
        f"the sell takes {amount:.8g} of the {guarded + watched:.8g} {BTC} held by strategies guarded "
        f"({guarded:.8g}), watched ({watched:.8g}), which no exit order reserves (none rests at the "
        f"exchange), in that order: all of strategy guarded's {guarded:.8g} (its protection ends with the "
        f"position), {TAKE:.8g} of strategy watched's {watched:.8g} (its protection, kept by the daemon "
        f"(none rests at the exchange), watches the {left:.8g} left)"
    )
    assert await _holdings(trader) == (0.0, pytest.approx(left), pytest.approx(left))
    assert order["shares"] == [
        {"strategy_id": "guarded", "amount": pytest.approx(guarded)},
        {"strategy_id": "watched", "amount": pytest.approx(TAKE)},
    ]
    protections = {
        "guarded": ("closed", f"the position was closed by a manual sell (order {order['id']})"),
        "watched": ("active", None),
    }
    assert await _protections(desk) == protections

    restarted = await desk.run()  # a new daemon on the same database folds the same positions
    assert await _holdings(restarted) == (0.0, pytest.approx(left), pytest.approx(left))
    assert await _protections(desk) == protections
    for price in (37_900.0, 37_500.0):  # under the stops: "watched"'s protection sells its rest, once
        await desk.tick(restarted, price)
    assert [o.quantity for o in hand_sells(desk.exchange)] == [pytest.approx(amount), pytest.approx(left)]
    assert await restarted.account.positions() == []


async def test_a_partial_fill_goes_to_the_first_owner_first_with_each_part_its_fee(desk: Desk) -> None:
    trader, guarded, watched = await _both(desk)
    account = trader.account
    journal = account.journal
    amount = float(f"{guarded + TAKE:.8g}")
    first = 0.1  # less than "guarded"'s: all of it is guarded's
    fees = {
        sid: (await journal.strategy_ledger(account.book, sid)).positions[BTC].fees
        for sid in ("guarded", "watched")
    }

    answer = await account.place(BTC, "sell", amount, type_="limit", price=41_000.0, live=True)
    order = answer["order"]
    assert order["state"] == "open"  # above the market: it rests

    desk.exchange.fill_part(order["client_order_id"], first)
    await account.poll()
    assert await _holdings(trader) == (
        pytest.approx(guarded - first),
        pytest.approx(watched),
        pytest.approx(guarded + watched - first),
    )

    desk.exchange.fill_part(order["client_order_id"], amount - first)  # the rest: guarded's, then watched's
    await account.poll()
    assert (await journal.get(order["id"])).state == "filled"
    assert await _holdings(trader) == (0.0, pytest.approx(watched - TAKE), pytest.approx(watched - TAKE))
    one, two = await journal.fills(order_id=order["id"])
    paid = {
        sid: (await journal.strategy_ledger(account.book, sid)).positions[BTC].fees - fees[sid]
        for sid in ("guarded", "watched")
    }
    assert paid == {
        "guarded": pytest.approx(one.fee + two.fee * (guarded - first) / two.amount),
        "watched": pytest.approx(two.fee * TAKE / two.amount),
    }

    restarted = await desk.run()
    assert await _holdings(restarted) == (0.0, pytest.approx(watched - TAKE), pytest.approx(watched - TAKE))
