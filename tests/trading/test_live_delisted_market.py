"""A market the exchange delists (or removes) while orders still work there, against the quirky fake
exchange's ``delist``.

Before, every poll looked up each order of that market, every lookup failed ("Invalid symbol": ccxt's
``BadSymbol``), and each failure was logged and counted by the exchange-errors breaker, which halts the
whole account: one dead market stopped the others, and nobody was told why. Now (``gone_markets``) the
market is said gone once (log and a critical alert naming its orders and position), its orders keep
their state and fills, its market list is asked again after growing intervals instead of its orders at
every poll, nothing is counted by the breaker, and its orders are looked up as before once it is listed
again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from mastertrade import errors
from mastertrade.config import ExchangeSettings
from mastertrade.db.types import utcnow
from mastertrade.engine import events
from mastertrade.engine.candle import Candle
from mastertrade.engine.execution import gone_markets
from mastertrade.engine.execution.broker import require_live
from mastertrade.engine.execution.live import LiveBroker
from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.market.venue import CandleUpdate
from mastertrade.engine.orders import OrderRequest, OrderState, OrderType, Side
from tests.conftest import MT
from tests.daemon.fakes import FakeVenue
from tests.fakes.exchange import market_id, venue_settings
from tests.fakes.exchange_trading import API_KEY, SECRET
from tests.fakes.quirky_exchange import QuirkyExchange
from tests.trading.conftest import T0, ThreadedTrading, trading_settings
from tests.trading.live_rig import BTC, Rig, bracketed, open_desk
from tests.trading.test_cli_live import wait_for_account

ETH = "ETH/USDT"
POLL_S = 5.0
"""The default ``[execution] poll_interval_s``."""


@pytest.fixture
def desk() -> Iterator[QuirkyExchange]:
    yield from open_desk(QuirkyExchange)


@pytest.fixture
def venue(desk: QuirkyExchange) -> QuirkyExchange:
    """The quirky desk under the name this module's tests use (conftest's ``rig`` is on ``desk``)."""
    return desk


def _steady(rig: Rig, broker: LiveBroker) -> None:
    """The schedule's clock moves only with the test's offset, so each look falls on a known poll."""
    start = utcnow()
    broker.gone_markets.clock = lambda: start + rig.clock.offset


def _naming(venue: QuirkyExchange, symbol: str, since: int) -> int:
    """Requests since the ``since``-th that name ``symbol``'s market."""
    return len([r for r in venue.requests[since:] if r.params.get("symbol") == market_id(symbol)])


def _gone_alerts(published: list[events.Event]) -> list[events.RiskBreached]:
    return [e for e in published if isinstance(e, events.RiskBreached) and e.limit == gone_markets.LIMIT]


async def _delisted(rig: Rig, venue: QuirkyExchange) -> tuple[LiveBroker, list[events.Event], int, int]:
    """A filled buy of 0.1 BTC whose stop and take-profit rest, and an ETH limit buy resting under the
    market; then BTC is delisted and one poll finds it so. Returns the broker, what it published, and
    the ids of the BTC stop and the ETH buy."""
    broker, published, stop, _ = await bracketed(rig)
    _steady(rig, broker)
    eth = await broker.submit(
        OrderRequest(ETH, Side.BUY, amount=1.0, type=OrderType.LIMIT, price=1_900.0), placed_ts=now_ms()
    )
    assert eth.state == OrderState.OPEN and eth.id is not None
    stop_row = await rig.journal.get(client_order_id=stop.client_order_id)
    assert stop_row.id is not None
    venue.delist(BTC)
    await broker.poll()
    return broker, published, stop_row.id, eth.id


async def test_a_delisted_market_is_said_once_and_not_hammered_and_trips_no_breaker(
    rig: Rig, venue: QuirkyExchange
) -> None:
    broker, published, stop_id, eth_id = await _delisted(rig, venue)

    [alert] = _gone_alerts(published)
    assert alert.severity == "critical" and alert.symbol == BTC
    assert "no longer listed" in alert.message and f"{stop_id}" in alert.message
    assert "a position of 0.1 BTC" in alert.message
    assert BTC in broker.markets_gone()
    assert rig.errors == []  # not an exchange error for the breaker

    since = len(venue.requests)
    for _ in range(int(3600 / POLL_S)):  # an hour of polls
        rig.clock.offset += timedelta(seconds=POLL_S)
        await broker.poll()
    # before: 2 lookups at each of the 720 polls, each counted by the breaker
    assert _naming(venue, BTC, since) == 0
    lists = len([r for r in venue.requests[since:] if r.path == "/api/v3/exchangeInfo"])
    assert lists == 5  # at 60 s, then 120, 240, 480 and 960 s after each; the next 1,800 s on
    assert rig.errors == []
    assert len(_gone_alerts(published)) == 1  # said once

    # nothing concluded without the exchange: its orders and the position stay as they were
    for row in await rig.journal.orders(book="live"):
        if row.symbol == BTC and row.role == "exit":
            assert row.state == OrderState.OPEN and row.filled == 0.0
    assert (await broker.ledger()).held(BTC) == pytest.approx(0.1)
    # a cancel by hand is refused naming why, the order left as it was
    with pytest.raises(errors.OperationFailed, match="no longer listed"):
        await broker.cancel(stop_id)
    assert (await rig.journal.get(stop_id)).state == OrderState.OPEN

    # the other markets trade on
    venue.set_price(ETH, 1_850.0)
    await broker.poll()
    assert (await rig.journal.get(eth_id)).state == OrderState.FILLED


async def test_a_market_listed_again_has_its_orders_looked_up_as_before(
    rig: Rig, venue: QuirkyExchange
) -> None:
    broker, _, stop_id, _ = await _delisted(rig, venue)
    venue.relist(BTC)
    venue.set_price(BTC, 37_800.0)  # the stop triggers and fills (its limit 37,620) while it is gone
    rig.clock.offset += timedelta(seconds=gone_markets.FIRST_S)

    await broker.poll()

    assert broker.markets_gone() == {}
    row = await rig.journal.get(stop_id)
    assert row.state == OrderState.FILLED and row.filled == pytest.approx(0.1)
    assert (await broker.ledger()).held(BTC) == pytest.approx(0.0, abs=1e-12)
    assert rig.errors == []


async def test_a_start_while_the_market_is_gone_says_it_without_counting_errors(
    rig: Rig, venue: QuirkyExchange
) -> None:
    await _delisted(rig, venue)
    fresh = rig.broker()
    seen: list[events.Event] = []
    fresh.publish = seen.append

    await fresh.start()

    [alert] = _gone_alerts(seen)
    assert BTC in fresh.markets_gone() and "a position of 0.1 BTC" in alert.message
    assert rig.errors == []


@pytest.fixture
def live_daemon(
    db_url: str, venue: QuirkyExchange, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ThreadedTrading]:
    monkeypatch.setenv("MT_MODE", "live")
    settings = trading_settings(
        mode="live",
        exchange=ExchangeSettings(**venue_settings(venue, api_key=API_KEY, secret=SECRET, timeout_s=1.0)),
        execution={"answer_within_s": 0.3, "poll_interval_s": 0.2},
        market={"venue": "ccxt", "symbols": [BTC]},
    )
    prices = FakeVenue("binance", simulated=False)  # the exchange's own prices, pushed by the test
    threaded = ThreadedTrading(settings, components=(require_live("live", True),), venue=prices).start()
    threaded.call(
        lambda: prices.push(CandleUpdate(BTC, "1h", Candle(T0, 40_000, 40_000, 40_000, 40_000, 1.0), False))
    )
    try:
        yield threaded
    finally:
        threaded.stop()


def test_mt_orders_and_mt_positions_say_the_market_is_gone(
    mt: MT, live_daemon: ThreadedTrading, venue: QuirkyExchange
) -> None:
    wait_for_account(mt)
    bought = mt("trade", "buy", BTC, "0.1", "--live", "--stop-loss", "0.05", "--take-profit", "0.1")
    assert bought.exit_code == 0, bought.output
    for _ in range(200):
        if len([o for o in mt.json("orders") if o["side"] == "sell" and o["state"] == "open"]) == 2:
            break
        time.sleep(0.05)
    venue.delist(BTC)
    for _ in range(400):
        [position] = mt.json("positions")
        if position["market_gone"]:
            break
        time.sleep(0.05)
    assert "BTC/USDT is no longer listed by binance" in position["market_gone"]
    working = [o for o in mt.json("orders") if o["state"] == "open"]
    assert len(working) == 2 and all("no longer listed" in o["market_gone"] for o in working)
    shown = mt("positions")
    assert shown.exit_code == 0 and "mt: warning: BTC/USDT is no longer listed by binance" in shown.stderr
    listed = mt("orders")
    assert listed.exit_code == 0 and listed.stderr.count("no longer listed") == 1
