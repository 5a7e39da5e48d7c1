"""The live broker against the second fake exchange (``tests/fakes/quirky_exchange.py``): a venue that
behaves as real Binance may and as our own desk does not, one quirk at a time.

What these check beyond ``test_live_venue_habits.py``: an order the exchange refuses with a 400 of its
filters is rejected at once with the exchange's reason (not taken for a lost answer and declared "never
reached the exchange" a minute later); a 429's ``Retry-After`` holds every client of the exchange (the
market feed's and the broker's), so the exchange never bans the address with a 418; a bracketed buy
whose stop-loss the exchange's minimum notional would refuse is refused before it is sent, or, when only
its fill shows it (a fee taken from the coins bought), its exits are not sent and the position is said
unprotected; a market order answered NEW that fills later in trades of one millisecond paying fees in
three assets, and an order whose answer is lost while the exchange still answers -2013 for it, are each
booked once and never sent twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from mastertrade import errors
from mastertrade.config import ExchangeSettings
from mastertrade.engine.market.ccxt_venue import CcxtVenue
from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.orders import OrderRequest, OrderState, OrderType, Side
from tests.fakes.exchange import FAST_CCXT, serve, venue_settings
from tests.fakes.exchange_trading import API_KEY, SECRET
from tests.fakes.quirky_exchange import Quirks, QuirkyExchange
from tests.trading.live_rig import BTC, DESK, Rig, buy


@pytest.fixture
def quirks(request: pytest.FixtureRequest) -> Quirks:
    return Quirks(**getattr(request, "param", {}))


@pytest.fixture
def venue_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Options of the desk under the quirks (``TradingExchange``'s), over ``live_rig.DESK``."""
    return dict(getattr(request, "param", {}))


@pytest.fixture
def venue(quirks: Quirks, venue_options: dict[str, Any]) -> Iterator[QuirkyExchange]:
    values: dict[str, Any] = {**DESK, **venue_options}
    symbols = values.pop("symbols")
    yield from serve(QuirkyExchange(symbols, quirks=quirks, **values))  # type: ignore[misc]


@pytest.fixture
async def quirky(database: Any, venue: QuirkyExchange) -> AsyncIterator[Rig]:
    rig = Rig(database, venue)
    try:
        yield rig
    finally:
        await rig.close()


async def test_an_order_refused_by_the_exchanges_notional_filter_is_rejected_with_its_reason(
    quirky: Rig, venue: QuirkyExchange
) -> None:
    """Binance refuses an order under its NOTIONAL filter with a 400 (-1013), which ccxt raises as a
    ``BadRequest``: a refusal, not an answer lost. (The daemon's market data said the order was worth
    enough: the exchange measures a market order on its own average price, and changes its filters.)"""
    broker = await quirky.started()
    venue.quirks.min_notional = "10"  # raised at the exchange since the daemon read its markets
    row = await broker.submit(buy(0.0002), placed_ts=now_ms())
    assert row.state == OrderState.REJECTED
    assert "Filter failure: NOTIONAL" in (row.reason or "")
    assert venue.placed == []
    assert await quirky.journal.in_flight("live") == []


async def test_a_rate_limit_holds_every_client_of_the_exchange_so_it_never_bans_the_address(
    venue: QuirkyExchange,
) -> None:
    """The market feed is told by a 429 to wait a second; the broker's call in that second waits too
    (Binance counts the address's requests: one sent during the wait gets a 418 ban, here one of 200 s,
    which the broker would not sit out)."""
    settings = ExchangeSettings(**venue_settings(venue, api_key=API_KEY, secret=SECRET, timeout_s=5.0))
    feed = CcxtVenue(settings, options=FAST_CCXT)
    trading = CcxtVenue(settings, options=FAST_CCXT)
    try:
        await feed.load_markets()
        await trading.load_markets()
        venue.rate_limit(retry_after_s=1.0, ban_s=200.0)
        candles = asyncio.create_task(feed.fetch_rows(BTC, "1m", None, 5))
        for _ in range(500):  # until the feed has its 429 and waits
            if feed.retries:
                break
            await asyncio.sleep(0.01)
        assert feed.retries == 1
        balance = await trading.call(trading.exchange.fetch_balance, what="binance fetch_balance")
        assert balance["total"]["USDT"] == pytest.approx(100_000.0)
        assert len(await candles) == 5
        assert venue.bans == 0
    finally:
        await feed.close()
        await trading.close()


async def test_a_bracketed_buy_too_small_for_its_stop_at_the_exchange_is_refused_before_it_is_sent(
    quirky: Rig, venue: QuirkyExchange
) -> None:
    """0.00013 BTC is worth 5.20 USDT at 40,000 (Binance's minimum is 5), but its stop 5% under, with its
    limit 1% under that (37,620), would sell it for 4.89: the exchange refuses such a stop, and the buy
    would be left bare. Refused up front, naming the amounts, nothing sent."""
    broker = await quirky.started()
    with pytest.raises(errors.UserInputError, match=r"stop-loss.*37620.*minimum notional of 5 USDT"):
        await broker.submit(buy(0.00013, stop_loss=0.05, reference_price=40_000.0), placed_ts=now_ms())
    assert venue.placed == []
    assert await quirky.journal.orders(book="live") == []


@pytest.mark.parametrize("quirks", [{"lot_step": "0.001"}], indirect=True)
@pytest.mark.parametrize("venue_options", [{"fee_asset": "ETH"}], indirect=True)
async def test_exits_the_exchange_would_refuse_after_the_fee_are_not_sent_and_the_position_is_unprotected(
    quirky: Rig, venue: QuirkyExchange
) -> None:
    """0.003 ETH at 2,000 passes with its stop (0.003 x 1,782 = 5.35 USDT), but the fee is taken from the
    coins bought: 0.002997 held, 0.002 in whole lot steps, 3.56 USDT at the stop's limit. Sent, the pair
    is refused and the position bare with one INFO line; instead the exits are cancelled saying why and
    the position shows unprotected (a warning and an ``exit_unplaced`` alert)."""
    broker = await quirky.started()
    entry = await broker.submit(
        OrderRequest(
            "ETH/USDT", Side.BUY, amount=0.003, stop_loss=0.1, take_profit=0.1, reference_price=2_000.0
        ),
        placed_ts=now_ms(),
    )
    assert entry.state == OrderState.FILLED
    exits = [row for row in await quirky.journal.orders(book="live") if row.parent_id == entry.id]
    assert [row.state for row in exits] == [OrderState.CANCELLED] * 2
    assert all("minimum notional of 5 USDT" in (row.reason or "") for row in exits)
    assert [order.type for order in venue.placed] == ["MARKET"]  # no pair the exchange would refuse
    assert "minimum notional" in broker.unprotected()["ETH/USDT"]


async def _until_final(rig: Rig, broker: Any, order_id: int) -> Any:
    """Poll as the daemon does until the order is final (the exchange acts on its own time)."""
    for _ in range(500):
        await broker.poll()
        row = await rig.journal.get(order_id)
        if row.state.final:
            return row
        await asyncio.sleep(0.01)
    raise AssertionError(f"order {order_id} never ended: {row.state} {row.reason}")


@pytest.mark.parametrize(
    "quirks", [{"market_settles_s": 0.3, "fee_assets": ("quote", "base", "BNB")}], indirect=True
)
@pytest.mark.parametrize(
    "venue_options", [{"pieces": 3, "balances": {"USDT": 100_000.0, "BNB": 10.0}}], indirect=True
)
async def test_a_market_order_answered_new_fills_later_in_pieces_paying_fees_in_three_assets(
    quirky: Rig, venue: QuirkyExchange
) -> None:
    """The exchange answers a market buy NEW with no fills; it matches later, in three trades of the same
    millisecond, each paying its fee in another asset (USDT, the coin bought, BNB). Every trade is booked
    once, in its asset, and the book equals the exchange in all three."""
    broker = await quirky.started()
    row = await broker.submit(buy(0.1), placed_ts=now_ms())
    assert row.id is not None and row.state == OrderState.OPEN and row.filled == 0.0
    done = await _until_final(quirky, broker, row.id)
    assert done.state == OrderState.FILLED and done.filled == pytest.approx(0.1)
    fills = await quirky.journal.fills(order_id=row.id)
    assert sorted(fill.fee_asset for fill in fills) == ["BNB", "BTC", "USDT"]
    assert len({fill.ts for fill in fills}) == 1
    ledger = await broker.ledger()
    for asset in ("USDT", "BTC", "BNB"):  # the exchange shows 8 decimals of what it keeps in floats
        assert ledger.balance(asset) == pytest.approx(venue.balance(asset), abs=1e-8)
    assert len(venue.orders_for(row.client_order_id)) == 1
    await quirky.assert_reconciled()


@pytest.mark.parametrize("quirks", [{"unknown_for_s": 2.0}], indirect=True)
async def test_an_order_whose_answer_is_lost_and_not_shown_at_once_is_waited_for_not_sent_again(
    quirky: Rig, venue: QuirkyExchange
) -> None:
    """The order is placed but its answer never comes, and for two seconds the exchange answers -2013
    "Order does not exist." when asked by client order id: it stays unknown (never resent, never rejected
    while its request could still show), and is found filled once the exchange shows it."""
    broker = await quirky.started()
    venue.after_accept("hang")
    row = await broker.submit(buy(0.1), placed_ts=now_ms())
    assert row.id is not None and row.state == OrderState.UNKNOWN
    done = await _until_final(quirky, broker, row.id)
    assert done.state == OrderState.FILLED and done.filled == pytest.approx(0.1)
    assert len(venue.placed) == 1
    await quirky.assert_reconciled()


@pytest.mark.parametrize("quirks", [{"unknown_for_s": 2.0}], indirect=True)
async def test_a_market_order_booked_behind_a_429_and_not_shown_at_once_is_bought_once(
    quirky: Rig, venue: QuirkyExchange
) -> None:
    """A gateway answers 429 to a market buy the exchange booked and filled, and for two seconds the
    exchange answers -2013 "Order does not exist." when asked by client order id. Before, the lookup
    before the rate limit's resend missed it and the buy was sent again: one client id, two FILLED
    orders, the book showing one fill. A 429 to a create proves nothing: the order's outcome is unknown,
    looked up over its arrival window (not sent again), and found filled once the exchange shows it."""
    broker = await quirky.started()
    venue.after_accept("429")
    row = await broker.submit(buy(0.1), placed_ts=now_ms())
    assert row.id is not None
    done = await _until_final(quirky, broker, row.id)
    assert [o.status for o in venue.orders_for(row.client_order_id)] == ["FILLED"]
    assert row.state == OrderState.UNKNOWN, row.reason  # not yet shown when submit answered
    assert done.state == OrderState.FILLED and done.filled == pytest.approx(0.1)
    assert len(await quirky.journal.fills(order_id=row.id)) == 1
    ledger = await broker.ledger()
    for asset in ("USDT", "BTC"):
        assert ledger.balance(asset) == pytest.approx(venue.balance(asset), abs=1e-8)
    await quirky.assert_reconciled()


async def _until_open(rig: Rig, broker: Any, order_ids: list[int]) -> list[Any]:
    """Poll as the daemon does until the orders rest at the exchange (it shows them on its own time)."""
    for _ in range(500):
        await broker.poll()
        rows = [await rig.journal.get(order_id) for order_id in order_ids]
        if all(row.state == OrderState.OPEN or row.state.final for row in rows):
            return rows
        await asyncio.sleep(0.01)
    raise AssertionError(f"orders {order_ids} never settled: {[(r.state, r.reason) for r in rows]}")


@pytest.mark.parametrize("quirks", [{"unknown_for_s": 2.0}], indirect=True)
async def test_an_oco_list_booked_behind_a_429_and_not_shown_at_once_is_booked_not_rejected(
    quirky: Rig, venue: QuirkyExchange
) -> None:
    """A gateway answers 429 to an OCO exit list the exchange booked, and for two seconds the exchange
    answers -2013 "Order does not exist." when asked for its legs by client order id. Before, the lookup
    before the rate limit's resend missed the list, the resend was refused as a duplicate and both legs
    were journaled rejected while they rested: the position looked bare and the exchange held exits the
    book did not know. A 429 to the list proves nothing: its legs are unknown, looked up over their
    arrival window (the list not sent again), and booked open once the exchange shows them."""
    broker = await quirky.started()
    entry = await broker.submit(buy(0.05), placed_ts=now_ms())
    assert entry.state == OrderState.FILLED
    venue.after_accept("429")
    stop, take = await broker.submit_oco(
        OrderRequest(BTC, Side.SELL, OrderType.STOP, amount=0.05, stop_price=38_000.0, role="stop_loss"),
        OrderRequest(BTC, Side.SELL, OrderType.LIMIT, amount=0.05, price=44_000.0, role="take_profit"),
        placed_ts=now_ms(),
    )
    assert stop.id is not None and take.id is not None
    assert [stop.state, take.state] == [OrderState.UNKNOWN] * 2, (stop.reason, take.reason)
    rows = await _until_open(quirky, broker, [stop.id, take.id])
    assert [row.state for row in rows] == [OrderState.OPEN] * 2, [row.reason for row in rows]
    posts = [r for r in venue.requests_to("/api/v3/orderList/oco") if r.method == "POST"]
    assert len(posts) == 1  # never sent again
    for row in rows:
        [resting] = venue.orders_for(row.client_order_id)
        assert resting.status == "NEW" and row.exchange_order_id == str(resting.order_id)
    assert (await broker.ledger()).held(BTC) == pytest.approx(venue.balance("BTC"), abs=1e-9)
    await quirky.assert_reconciled()
