"""`mt trade --live` while the exchange's rate limit holds the daemon (a 418 ban of a few seconds, with
its ``Retry-After``): the daemon journals the order and answers at once, the command says the order is
held and until when, and follows it past ``--wait`` to its fill once the ban is over; told not to wait,
it says the order is queued, until when, and how to follow it. The order is placed once either way.

Before, the order waited for the ban before it was even journaled (its market read through the retry
policy), so the daemon said nothing: the command sat silent, and gave up after its 10 s answer timeout
("the daemon did not answer and has no order yet") on a ban longer than that, placed a minute later.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from mastertrade.engine.market.retry import RateGate
from tests.conftest import MT
from tests.fakes.exchange_trading import TradingExchange
from tests.trading.conftest import ThreadedTrading
from tests.trading.test_cli_live import BTC, live_daemon, wait_for_account

__all__ = ["live_daemon"]  # the fixture, shared with the other live CLI tests

BAN_S = 4


@pytest.fixture
def banned(
    mt: MT, live_daemon: ThreadedTrading, desk: TradingExchange, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The daemon held by a 418 ban of ``BAN_S`` seconds, told while it looks up a resting order (the
    fixture returns once the daemon holds the wait: an event, not a sleep)."""
    wait_for_account(mt)
    resting = mt.json("trade", "buy", BTC, "0.1", "--type", "limit", "--price", "30000", "--live")
    assert resting["order"]["state"] == "open"
    held = threading.Event()
    hold = RateGate.hold

    def told(gate: RateGate, seconds: float) -> None:
        hold(gate, seconds)
        if seconds >= BAN_S:
            held.set()

    monkeypatch.setattr(RateGate, "hold", told)
    desk.fail(418, times=1, path="/api/v3/order", headers={"Retry-After": str(BAN_S)})
    assert held.wait(30), "the daemon never looked up its resting order"
    yield


def test_an_order_held_by_a_ban_is_said_held_until_when_and_followed_to_its_fill(
    mt: MT, banned: None, desk: TradingExchange
) -> None:
    result = mt("trade", "buy", BTC, "0.1", "--live", "--client-order-id", "held-1", "--wait", "1")
    assert result.exit_code == 0, result.stderr
    assert "held by the exchange's rate limit: until 20" in result.stderr, result.stderr
    assert "then the daemon sends it" in result.stderr
    assert ": filled, 0.1 filled at 40,000" in result.stdout
    assert len(desk.orders_for("held-1")) == 1


def test_an_order_held_by_a_ban_not_waited_for_is_said_queued_and_placed_once(
    mt: MT, banned: None, desk: TradingExchange
) -> None:
    result = mt("trade", "buy", BTC, "0.1", "--live", "--client-order-id", "held-2", "--wait", "0")
    assert result.exit_code == 1
    (said,) = [line for line in result.stderr.splitlines() if "queued" in line]
    assert "the exchange asked to wait until 20" in said and "(rate limit)" in said, said
    assert "sends it then, once" in said and "`mt orders show " in said and "do not place it again" in said
    assert desk.orders_for("held-2") == []  # not sent into the ban
    followed = mt("trade", "buy", BTC, "0.1", "--live", "--client-order-id", "held-2", "--wait", "30")
    assert followed.exit_code == 0, followed.stderr
    assert "already placed" in followed.stdout and ": filled" in followed.stdout
    assert len(desk.orders_for("held-2")) == 1
