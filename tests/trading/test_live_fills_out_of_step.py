"""Fills that reach the live broker out of step: a resting limit buy fills in parts over several polls,
its trades are listed newest first (out of the order they happened), and the exchange's view of the
order runs one query behind its trades (a fill visible only in ``myTrades`` at first, as Binance's order
query may lag its trade list).

What a trader expects: every trade booked exactly once, in whichever poll it is first seen in full; the
order ends ``filled`` with fills adding up to its amount; the book's balances equal the exchange's, and a
fresh start adjusts nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from mastertrade.engine.orders import OrderState
from tests.fakes.exchange import Recorded, Reply, serve
from tests.fakes.exchange_trading import DeskOrder
from tests.fakes.quirky_exchange import QuirkyExchange
from tests.trading.live_rig import BTC, DESK, LIMIT, Rig, resting_buy


class LaggingBook(QuirkyExchange):
    """The quirky exchange whose order query shows each order as it stood at its previous query, and
    whose ``myTrades`` lists an answer's trades newest first."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shown: dict[int, dict[str, Any]] = {}
        self.route("GET", "/api/v3/myTrades", self._newest_first(self._routes[("GET", "/api/v3/myTrades")]))

    def _order_json(self, order: DeskOrder) -> dict[str, Any]:
        now = super()._order_json(order)
        with self._desk:
            before = self._shown.get(order.order_id, now)
            self._shown[order.order_id] = now
        return before

    @staticmethod
    def _newest_first(handler: Any) -> Any:
        def serve_reversed(request: Recorded) -> Reply:
            reply = handler(request)
            if reply.status == 200 and isinstance(reply.body, list):
                return Reply(200, list(reversed(reply.body)), reply.headers)
            return reply

        return serve_reversed


@pytest.fixture
def venue() -> Iterator[LaggingBook]:
    values: dict[str, Any] = dict(DESK)
    symbols = values.pop("symbols")
    yield from serve(LaggingBook(symbols, **values))


@pytest.fixture
async def rig(database: Any, venue: LaggingBook) -> AsyncIterator[Rig]:
    rig = Rig(database, venue)
    try:
        yield rig
    finally:
        await rig.close()


async def test_parts_filled_over_polls_listed_out_of_order_and_shown_late_are_each_booked_once(
    rig: Rig, venue: LaggingBook
) -> None:
    broker = await rig.started()
    row = await resting_buy(broker, 0.1, bracketed=False)
    assert row.id is not None and row.state == OrderState.OPEN
    booked: list[list[str]] = []
    for part in (0.03, 0.02, 0.02):
        venue.fill_part(row.client_order_id, part)
        for _ in range(2):  # the order shows it one query later than its trades do
            await broker.poll()
            booked.append([fill.trade_id for fill in await rig.journal.fills(order_id=row.id)])
    venue.set_price(BTC, LIMIT - 100.0)  # the rest fills
    for _ in range(3):
        await broker.poll()
    [desk_order] = venue.orders_for(row.client_order_id)
    fills = await rig.journal.fills(order_id=row.id)
    assert sorted(fill.trade_id for fill in fills) == sorted(str(trade["id"]) for trade in desk_order.trades)
    assert len({fill.trade_id for fill in fills}) == len(fills) == 4
    assert sum(fill.amount for fill in fills) == pytest.approx(0.1)
    done = await rig.journal.get(row.id)
    assert done.state == OrderState.FILLED and done.filled == pytest.approx(0.1)
    # the first poll after each part still sees the order without it; the second books its one trade
    assert [len(ids) for ids in booked] == [0, 1, 1, 2, 2, 3]
    assert all(later[: len(earlier)] == earlier for earlier, later in zip(booked, booked[1:], strict=False))
    ledger = await broker.ledger()
    for asset in ("USDT", "BTC"):
        assert ledger.balance(asset) == pytest.approx(venue.balance(asset), abs=1e-8)
    await rig.assert_reconciled()
