"""A filled part of a resting bracketed buy worth less than the exchange's minimum notional.

A limit buy of 0.1 BTC at 39,000 with a stop-loss and a take-profit fills 0.0001 BTC (3.9 USDT) while
the rest still rests; Binance takes no order worth under 5 USDT, so that part can have no exits. It was
logged at info only: the part was unprotected and nothing said so. Now it is a warning in the log and an
alert, and the position is shown unprotected (``mt positions`` / ``/v1/positions``: why, naming the
exchange's minimum notional) until the part grows enough for its exits to be placed.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from mastertrade.engine import events
from tests.trading.live_rig import BTC, Rig, listen, resting_buy


@pytest.fixture
def desk_options() -> dict[str, Any]:
    return {"hang_s": 2}


def _alerts(published: list[events.Event]) -> list[events.RiskBreached]:
    return [e for e in published if isinstance(e, events.RiskBreached) and e.limit == "exit_unplaced"]


async def test_a_part_below_the_minimum_notional_is_shown_unprotected_until_it_grows(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    broker = await rig.started()
    published = listen(broker)
    entry = await resting_buy(broker)
    rig.desk.fill_part(entry.client_order_id, 0.0001)  # 3.9 USDT: under Binance's 5 USDT
    with caplog.at_level(logging.WARNING):
        await broker.poll()
        await broker.poll()  # said once, not at every poll
    assert [o for o in rig.desk.placed if o.side == "SELL"] == []
    [alert] = _alerts(published)
    assert alert.symbol == BTC and alert.severity == "warning"
    assert f"order {entry.id}" in alert.message
    assert "below the exchange's minimum notional of 5 USDT" in alert.message
    assert caplog.text.count(alert.message) == 1
    shown = broker.unprotected()
    assert shown[BTC] == alert.message

    rig.desk.fill_part(entry.client_order_id, 0.01)  # now worth enough
    await broker.poll()
    resting = [o for o in rig.desk.orders.values() if o.side == "SELL" and o.status == "NEW"]
    assert sorted(o.type for o in resting) == ["LIMIT_MAKER", "STOP_LOSS_LIMIT"]
    assert all(o.quantity == pytest.approx(0.0101) for o in resting)
    assert broker.unprotected() == {}
    await rig.assert_reconciled()
