"""A live bracket's exits take their levels from the entry's fill, as paper's do
(``test_bracket_levels_from_fill.py``) and as the backtest's stops do: "--stop-loss 0.05" means 5% under
what the buy paid. Live armed them at the levels ``bracket_children`` computed from the reference price
when the entry was journaled (the limit, or the daemon's mark for a market buy), so a limit buy that
filled better than its limit, or a market buy that slipped, rested its stop and take-profit off its fill.

Seen by hand (session 29, the fake desk at 40,500): ``mt trade buy BTC/USDT 0.002 --type limit --price
41000 --live --stop-loss 0.05 --take-profit 0.1`` filled at 40,500, and ``mt orders`` showed the stop at
38,950 (3.8% under the fill) and the take-profit at 45,100 (11.4% over it).

``LiveBroker._arm_exits`` now prices them from the entry's average fill (``_levels_from_fill``), and the
journal keeps the stop level the exchange holds (``Journal.size_intent(stop_price=...)``).
"""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.orders import OrderType
from tests.trading.live_rig import Rig, buy


@pytest.fixture
def desk_options() -> dict[str, Any]:
    return {"hang_s": 2}


async def test_a_limit_buy_that_fills_better_arms_its_exits_from_the_fill(rig: Rig) -> None:
    broker = await rig.started()
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
    assert entry.state == "filled" and entry.cost / entry.filled == pytest.approx(40_000.0)
    exits = {row.role: row for row in await rig.journal.orders(book="live") if row.parent_id == entry.id}
    assert exits["stop_loss"].stop_price == pytest.approx(38_000.0)
    assert exits["take_profit"].price == pytest.approx(44_000.0)
    [stop] = [o for o in rig.desk.placed if o.type == "STOP_LOSS_LIMIT"]
    assert stop.stop_price == pytest.approx(38_000.0)
