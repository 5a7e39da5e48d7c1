"""A live bracketed buy is in the book as soon as the journal says it filled, before its exits go out.

``LiveBroker._sync`` journaled the fill, then sent the stop-loss and take-profit to the exchange (a
network round trip, longer on a slow venue), and only then booked the fill in the ledger the risk
check reads. Meanwhile the journal no longer listed the buy as open and the ledger did not hold it
yet: the account looked as if the buy had never been made, and a manual buy checked in that window
had the whole position limit as its room again.
"""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.engine.execution import live_oco
from mastertrade.engine.execution.portfolio import snapshot
from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.orders import OrderState, OrderType
from tests.trading.live_rig import BTC, Rig, buy


@pytest.fixture
def desk_options() -> dict[str, Any]:
    return {"hang_s": 2}


async def test_a_bracketed_buy_is_held_while_its_exits_are_sent(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = await rig.started()
    seen: list[float] = []
    send_exits = live_oco.send_exits

    async def watching(owner: Any, sized: Any) -> Any:
        working = await rig.journal.orders(
            book="live",
            states=[OrderState.OPEN, OrderState.PARTIALLY_FILLED, OrderState.SENT, OrderState.UNKNOWN],
        )
        book = snapshot(await broker.ledger(), {BTC: 40_000.0}, working, "USDT")
        seen.append(book.symbol_exposure(BTC))
        return await send_exits(owner, sized)

    monkeypatch.setattr(live_oco, "send_exits", watching)
    entry = await broker.submit(
        buy(
            0.1,
            type=OrderType.LIMIT,
            price=41_000.0,
            reference_price=41_000.0,
            stop_loss=0.05,
            take_profit=0.1,
        ),
        placed_ts=now_ms(),
    )
    assert entry.state == "filled"
    assert seen == [pytest.approx(0.1 * 40_000.0)]
