"""The new pair for the rest of a partly filled take-profit covers all of that rest, to the lot step.

The rest was computed as ``amount - filled`` in floats and cut to the lot step: 0.1 - 0.08439 is
0.015609999999999999, which ccxt's ``amount_to_precision`` truncates to 0.01560, so one lot step of the
position was left with no stop (and no exit at all), every time the subtraction fell under the decimal
value; with one step left it fell to nothing, and ccxt's error escaped the re-protection.
"""

from __future__ import annotations

from typing import Any

import pytest

from mastertrade.engine.market.timeframes import now_ms
from tests.trading.live_rig import BTC, Rig, buy


@pytest.fixture
def desk_options() -> dict[str, Any]:
    return {"hang_s": 2}


async def test_the_new_pair_covers_the_whole_rest(rig: Rig) -> None:
    broker = await rig.started()
    entry = await broker.submit(
        buy(0.1, stop_loss=0.05, take_profit=0.1, reference_price=40_000.0), placed_ts=now_ms()
    )
    assert entry.state == "filled"
    [take] = [o for o in rig.desk.placed if o.type == "LIMIT_MAKER"]
    rig.desk.fill_part(take.client_order_id, 0.08439)
    await broker.poll()
    assert rig.errors == []
    desk_stop, desk_take = rig.desk.placed[-2:]
    assert (desk_stop.type, desk_take.type) == ("STOP_LOSS_LIMIT", "LIMIT_MAKER")
    assert desk_stop.quantity == desk_take.quantity == pytest.approx(0.01561, abs=1e-12)
    assert rig.desk.locked["BTC"] == pytest.approx(rig.desk.balance("BTC"), abs=1e-12)  # all of it
    rig.desk.set_price(BTC, 37_900.0)
    await broker.poll()
    assert (await broker.ledger()).held(BTC) == pytest.approx(0.0, abs=1e-12)
    await rig.assert_reconciled()
