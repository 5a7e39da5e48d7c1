"""A sell by hand of several owners' coins is shared out by its shares (``order_shares``): each fill in
the order of the shares, each part with its share of the fees, never more than its owner holds then."""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.db.models.trading import OrderRecord
from mastertrade.engine.execution.journal import Journal, NewFill
from mastertrade.engine.execution.order_shares import allocate, parts, pending
from mastertrade.engine.orders import OrderRequest, OrderState, Side

BTC = "BTC/USDT"


def test_a_sell_takes_the_owners_in_order_and_its_fills_go_to_them_in_that_order() -> None:
    shares = allocate([(None, 0.05), ("a", 0.1), ("b", 0.1)], 0.2)
    assert shares == ((None, 0.05), ("a", 0.1), ("b", pytest.approx(0.05)))
    assert allocate([(None, 0.0), ("a", 0.1), ("b", 0.1)], 0.05) == (("a", 0.05),)
    assert parts(shares, 0.0, 0.12) == [(None, 0.05), ("a", pytest.approx(0.07))]
    assert parts(shares, 0.12, 0.08) == [("a", pytest.approx(0.03)), ("b", pytest.approx(0.05))]
    assert parts(shares, 0.2, 0.01) == [(None, pytest.approx(0.01))]  # past every share: the account's


def test_a_sell_on_its_way_still_takes_its_shares_parts_of_what_it_has_left_to_fill() -> None:
    def sell(amount: float, filled: float, **kwargs: Any) -> OrderRecord:
        return OrderRecord(
            client_order_id=f"mt{amount}",
            book="live",
            mode="live",
            symbol=BTC,
            side="sell",
            type="limit",
            amount=amount,
            filled=filled,
            state=OrderState.PARTIALLY_FILLED if filled else OrderState.OPEN,
            placed_ts=0,
            **kwargs,
        )

    shared = sell(
        0.2, 0.12, shares=[{"strategy_id": None, "amount": 0.05}, {"strategy_id": "a", "amount": 0.15}]
    )
    assert pending([shared]) == {"a": pytest.approx(0.08)}  # the account's own part is sold already
    assert pending([shared, sell(0.1, 0.0, strategy_id="b"), sell(0.05, 0.01)]) == {
        "a": pytest.approx(0.08),
        "b": pytest.approx(0.1),
        None: pytest.approx(0.04),
    }
    assert pending([sell(0.1, 0.1, strategy_id="b")]) == {}  # filled: nothing left to take


async def _filled(journal: Journal, request: OrderRequest, amount: float, trade: str) -> int:
    row, _ = await journal.create_order("live", "live", request, placed_ts=0)
    assert row.id is not None
    fill = NewFill(trade, amount, 40_000.0, amount * 40.0, "USDT", 0)
    await journal.add_fills(row.id, [fill], OrderState.FILLED)
    return row.id


async def test_a_part_never_takes_more_than_its_owner_holds_then(database: Any) -> None:
    journal = Journal(database)
    await journal.ensure_book("live", mode="live", quote="USDT")
    for sid in ("a", "b"):
        await _filled(journal, OrderRequest(BTC, Side.BUY, amount=0.1, strategy_id=sid), 0.1, f"buy-{sid}")
    shares = (("a", 0.1), ("b", 0.05))
    sell, _ = await journal.create_order(
        "live", "live", OrderRequest(BTC, Side.SELL, amount=0.15, shares=shares), placed_ts=0
    )
    assert sell.id is not None and sell.shares == [
        {"strategy_id": "a", "amount": 0.1},
        {"strategy_id": "b", "amount": 0.05},
    ]
    # "a"'s exit signal sold its coins while the sell rested: its part of the sell is the account's own
    await _filled(journal, OrderRequest(BTC, Side.SELL, amount=0.1, strategy_id="a", role="exit"), 0.1, "x")
    fill = NewFill("hand", 0.15, 40_000.0, 6.0, "USDT", 0)
    await journal.add_fills(sell.id, [fill], OrderState.FILLED)

    ledgers = await journal.strategy_ledgers("live")
    assert ledgers["a"].held(BTC) == 0.0
    assert ledgers["b"].held(BTC) == pytest.approx(0.05)
    assert ledgers["b"].positions[BTC].fees == pytest.approx(
        4.0 + 6.0 / 3
    )  # its buy's, its third of the sell's
