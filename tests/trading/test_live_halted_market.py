"""A market halted at the exchange (Binance status ``BREAK``: a trading halt, or a symbol on its way to
being delisted), against the quirky fake exchange's ``halt``.

What a trader expects: a buy of a halted market is refused at once with the exchange's reason ("Market
is closed."), nothing left unknown, nothing sent again; a daemon started while it is halted refuses the
order before journaling it, naming the market's status. Before, the exchange's refusal (ccxt's
``MarketClosed``, not a ``BadRequest``) was taken for a lost answer: the order sat ``unknown`` for its
arrival window, counted as an exchange error (which trips the breaker), then was declared "never reached
the exchange", which it had.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mastertrade import errors
from mastertrade.engine import events
from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.orders import OrderRequest, OrderState, OrderType, Side
from tests.fakes.quirky_exchange import QuirkyExchange
from tests.trading.live_rig import BTC, Rig, buy, listen, open_desk


@pytest.fixture
def desk() -> Iterator[QuirkyExchange]:
    yield from open_desk(QuirkyExchange)


@pytest.fixture
def venue(desk: QuirkyExchange) -> QuirkyExchange:
    """The quirky desk under the name this module's tests use (conftest's ``rig`` is on ``desk``)."""
    return desk


def _posts(venue: QuirkyExchange, path: str = "/api/v3/order") -> int:
    return len([r for r in venue.requests_to(path) if r.method == "POST"])


async def test_an_order_for_a_market_halted_while_the_daemon_runs_is_rejected_with_the_exchanges_reason(
    rig: Rig, venue: QuirkyExchange
) -> None:
    broker = await rig.started()
    venue.halt(BTC)
    row = await broker.submit(buy(0.1), placed_ts=now_ms())
    assert row.state == OrderState.REJECTED, (row.state, row.reason)
    assert row.reason is not None and "Market is closed." in row.reason
    assert venue.placed == [] and _posts(venue) == 1
    assert rig.errors == []  # a refusal, not an exchange error for the breaker
    await broker.poll()
    assert (await rig.journal.get(row.id)).state == OrderState.REJECTED
    await rig.assert_reconciled()


async def test_exits_for_a_market_halted_while_the_daemon_runs_are_rejected_with_the_exchanges_reason(
    rig: Rig, venue: QuirkyExchange
) -> None:
    broker = await rig.started()
    entry = await broker.submit(buy(0.05), placed_ts=now_ms())
    assert entry.state == OrderState.FILLED
    venue.halt(BTC)
    stop, take = await broker.submit_oco(
        OrderRequest(BTC, Side.SELL, OrderType.STOP, amount=0.05, stop_price=38_000.0, role="stop_loss"),
        OrderRequest(BTC, Side.SELL, OrderType.LIMIT, amount=0.05, price=44_000.0, role="take_profit"),
        placed_ts=now_ms(),
    )
    for leg in (stop, take):
        assert leg.state == OrderState.REJECTED, (leg.state, leg.reason)
        assert leg.reason is not None and "Market is closed." in leg.reason
    assert _posts(venue, "/api/v3/orderList/oco") == 1 and rig.errors == []


async def test_an_order_for_a_market_halted_at_the_start_is_refused_before_it_is_journaled(
    rig: Rig, venue: QuirkyExchange
) -> None:
    venue.halt(BTC)
    broker = await rig.started()
    with pytest.raises(errors.OperationFailed, match=r"BTC/USDT is not trading on binance \(its status"):
        await broker.submit(buy(0.1), placed_ts=now_ms())
    assert await rig.journal.orders(book="live") == [] and _posts(venue) == 0
    venue.resume(BTC)  # trading again: the same daemon buys, no restart needed
    assert (await broker.submit(buy(0.1), placed_ts=now_ms())).state == OrderState.FILLED


async def test_a_strategys_entry_in_a_halted_market_is_refused_and_audited_and_the_bar_goes_on(
    database: Any, venue: QuirkyExchange
) -> None:
    """A strategy's buy at a bar's close in a market halted since the start: refused before it is
    journaled, and the refusal audited with its reason; the bar's work goes on (the trading service does
    not fail on it), and once the market trades again the next signal buys, with no restart."""
    from tests.trading.test_live_protection import Desk

    venue.halt(BTC)
    desk = Desk(database, venue, stop_loss=0.05)  # kept by the daemon's protection
    try:
        trader = await desk.run()
        await desk.close_bar(trader, 39_600.0, 40_040.0, 39_400.0, 40_000.0)  # up bar: the entry
        assert venue.placed == [] and await trader.account.journal.orders(book="live") == []
        [audit] = await trader.account.risk.store.audit_log(kind="reject")
        assert audit.strategy_id == "guarded" and "BTC/USDT is not trading on binance" in audit.reason
        [guard] = await desk.protections()
        assert guard.state == "closed"  # nothing left waiting to protect
        [said] = [e for e in desk.events if isinstance(e, events.OrderRejected)]
        assert said.symbol == BTC and "is not trading on binance" in said.reason
        venue.resume(BTC)
        await desk.close_bar(trader, 40_000.0, 40_500.0, 39_900.0, 40_400.0)
        [bought] = venue.placed
        assert bought.side == "BUY" and bought.status == "FILLED"
        assert [guard.state for guard in await desk.protections()] == ["closed", "active"]
        await trader.close()
    finally:
        await desk.close()


async def test_exits_refused_for_a_market_halted_after_the_buy_filled_leave_the_position_said_unprotected(
    rig: Rig, venue: QuirkyExchange
) -> None:
    """A bracketed buy fills, then the market halts before its exits reach the exchange: they are
    refused ("Market is closed."), so the position is bare. ``mt positions`` says so (``unprotected``), a
    warning and an ``exit_unplaced`` alert go out; before, it showed the position as if protected."""
    broker = await rig.started()
    seen = listen(broker)
    create = venue._routes[("POST", "/api/v3/order")]

    def filled_then_halted(request: Any) -> Any:
        reply = create(request)
        venue.halt(BTC)
        return reply

    venue.route("POST", "/api/v3/order", filled_then_halted)
    entry = await broker.submit(
        buy(0.1, stop_loss=0.05, take_profit=0.1, reference_price=40_000.0), placed_ts=now_ms()
    )
    assert entry.state == OrderState.FILLED
    exits = [row for row in await rig.journal.orders(book="live") if row.parent_id == entry.id]
    assert [row.state for row in exits] == [OrderState.REJECTED] * 2
    shown = broker.unprotected()[BTC]
    assert (
        f"its buy order {entry.id} (BTC/USDT) bought has no exits" in shown and "Market is closed." in shown
    )
    [alert] = [e for e in seen if isinstance(e, events.RiskBreached)]
    assert alert.limit == "exit_unplaced" and alert.symbol == BTC
    await broker.poll()
    assert BTC in broker.unprotected()  # still bare: kept, not pruned
    restarted = await rig.started()
    assert BTC in restarted.unprotected()  # and across a restart
