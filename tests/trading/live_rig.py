"""The live tests' shared set-up: the fake exchange's trading desk, and a journal with live brokers on it.

``Rig`` is one test database and one fake desk; ``rig.started()`` is one "daemon run" (a fresh broker that
reconciles); ``rig.assert_reconciled()`` checks that a further start finds nothing to adjust. The ``desk``
and ``rig`` fixtures (``tests/trading/conftest.py``) build them; a module that needs a different desk
overrides the ``desk_options`` fixture.

The positions the live tests start from: ``resting_buy(broker)``, a limit buy of 0.1 BTC resting at 39,000
under the desk's 40,000 (bracketed: stop-loss 5%, take-profit 10%), and ``bracketed(rig)``, a filled buy
of 0.1 BTC at 40,000 whose stop and take-profit rest as one OCO list; ``listen(broker)`` records what
a broker publishes (its alerts).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from mastertrade.config import ExchangeSettings
from mastertrade.db.models.trading import OrderRecord
from mastertrade.db.types import utcnow
from mastertrade.engine import events
from mastertrade.engine.execution.broker import require_live
from mastertrade.engine.execution.journal import Journal
from mastertrade.engine.execution.live import LiveBroker
from mastertrade.engine.market.ccxt_venue import CcxtVenue
from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.orders import OrderRequest, OrderType, Side
from tests.fakes.exchange import FAST_CCXT, serve, venue_settings
from tests.fakes.exchange_trading import API_KEY, SECRET, DeskOrder, TradingExchange

BTC = "BTC/USDT"
CONSENT = require_live("live", True)
DESK: dict[str, Any] = {
    "symbols": {BTC: 40_000.0, "ETH/USDT": 2_000.0},
    "balances": {"USDT": 100_000.0},
    "hang_s": 3,
}
"""The default desk: 100,000 USDT, BTC at 40,000; a hang outlasts the brokers' 1 s timeout."""
ANSWER_S = 60.0
"""How long ``submit`` waits for the exchange's answer (``answer_within_s``) in a rig: the tests assert on
the order as answered (filled, resting), and under load a bracketed send (entry, its fills, its exits)
outlasted the daemon's 5 s and was answered ``sent``. A send ends in about a second (the 1 s timeout), so
this is only the bound of a broken one; a test of a late answer sets its own."""


def open_desk[E: TradingExchange](
    exchange: type[E] = TradingExchange,  # type: ignore[assignment]
    **options: Any,
) -> Iterator[E]:
    """Generator body for a fixture: a started trading desk (``DESK`` with ``options`` over it), of the
    fake ``exchange`` class (the quirky one of ``tests/fakes/quirky_exchange.py``, say)."""
    values = {**DESK, **options}
    symbols = values.pop("symbols")
    yield from serve(exchange(symbols, **values))  # type: ignore[misc]


class Clock:
    """The brokers' clock: now, moved on by ``offset`` (time passing without waiting for it)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset


class Rig:
    """A journal on the test database and live brokers on the fake desk (one per "daemon run")."""

    def __init__(self, db: Any, desk: TradingExchange) -> None:
        self.db = db
        self.desk = desk
        self.journal = Journal(db)
        self.clock = Clock()
        self.errors: list[str] = []
        self.venues: list[CcxtVenue] = []

    def broker(self, **overrides: Any) -> LiveBroker:
        settings = ExchangeSettings(
            **venue_settings(self.desk, api_key=API_KEY, secret=SECRET, timeout_s=1.0, **overrides)
        )
        venue = CcxtVenue(settings, options=FAST_CCXT)
        self.venues.append(venue)

        async def on_error(what: str) -> None:
            self.errors.append(what)

        return LiveBroker(
            self.journal,
            venue,
            CONSENT,
            clock=self.clock,
            on_error=on_error,
            unknown_grace_s=1.0,
            answer_within_s=ANSWER_S,
        )

    async def started(self, **overrides: Any) -> LiveBroker:
        broker = self.broker(**overrides)
        await broker.start()
        return broker

    async def close(self) -> None:
        for venue in self.venues:
            await venue.close()

    async def assert_reconciled(self) -> None:
        """A fresh start adjusts nothing: the book is what the exchange holds, and it is its fills."""
        fresh = self.broker()
        await fresh.start()
        report = await fresh.reconcile()
        assert report["adjusted"] == {} and report["sent"] == []
        ledger = await fresh.ledger()
        for asset in ("USDT", "BTC"):
            assert ledger.balance(asset) == pytest.approx(self.desk.balance(asset), abs=1e-7)
        for row in await self.journal.orders(book="live"):
            assert len(self.desk.orders_for(row.client_order_id)) <= 1
            if row.state in ("filled", "partially_filled", "open", "cancelled") and row.exchange_order_id:
                assert len(self.desk.orders_for(row.client_order_id)) == 1


def buy(amount: float = 0.1, **kwargs: Any) -> OrderRequest:
    return OrderRequest(BTC, Side.BUY, amount=amount, **kwargs)


LIMIT = 39_000.0
"""Where ``resting_buy`` rests: under the desk's 40,000, so it waits until the test fills it."""


def listen(broker: LiveBroker) -> list[events.Event]:
    """What ``broker`` publishes from now on (its alerts), in order."""
    seen: list[events.Event] = []
    broker.publish = seen.append
    return seen


async def resting_buy(broker: LiveBroker, amount: float = 0.1, *, bracketed: bool = True) -> OrderRecord:
    """A limit buy of ``amount`` BTC resting at 39,000 (``LIMIT``), sent now; ``bracketed``: with a
    stop-loss 5% and a take-profit 10% from the limit, placed as its filled parts come in."""
    exits: dict[str, float] = (
        {"reference_price": LIMIT, "stop_loss": 0.05, "take_profit": 0.1} if bracketed else {}
    )
    return await broker.submit(buy(amount, type=OrderType.LIMIT, price=LIMIT, **exits), placed_ts=now_ms())


async def bracketed(rig: Rig) -> tuple[LiveBroker, list[events.Event], DeskOrder, DeskOrder]:
    """A filled entry of 0.1 BTC at 40,000 whose stop (38,000) and take-profit (44,000) rest as one list:
    the broker, what it publishes, and the stop and take-profit at the exchange."""
    broker = await rig.started()
    seen = listen(broker)
    entry = await broker.submit(
        buy(0.1, stop_loss=0.05, take_profit=0.1, reference_price=40_000.0), placed_ts=now_ms()
    )
    assert entry.state == "filled"
    [stop] = [o for o in rig.desk.placed if o.type == "STOP_LOSS_LIMIT"]
    [take] = [o for o in rig.desk.placed if o.type == "LIMIT_MAKER"]
    return broker, seen, stop, take


def resting_sells(exchange: TradingExchange) -> list[DeskOrder]:
    """The sells resting at the exchange, the stop first."""
    rows = [o for o in exchange.orders.values() if o.side == "SELL" and o.status == "NEW"]
    return sorted(rows, key=lambda o: o.type != "STOP_LOSS_LIMIT")


def hand_sells(exchange: TradingExchange) -> list[DeskOrder]:
    """The market sells placed at the exchange (the sells by hand the tests send)."""
    return [o for o in exchange.placed if o.side == "SELL" and o.type == "MARKET"]
