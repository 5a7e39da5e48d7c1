"""Protective exits of live positions, kept by the daemon, against the fake exchange (the real ccxt
binance client on 127.0.0.1).

A strategy's live entry with a bracket is protected on every price update: a level reached sends exactly
one reduce-only market sell through the live broker's journaled path, also across restarts and lost
answers; a position closed by other means drops its protection; stale prices degrade it, loudly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from mastertrade.config import ExchangeSettings
from mastertrade.db.models.protection import ProtectionRecord
from mastertrade.db.types import utcnow
from mastertrade.engine import events
from mastertrade.engine.api.schemas_trading import RiskStatus
from mastertrade.engine.candle import Bar, Candle
from mastertrade.engine.execution.broker import require_live
from mastertrade.engine.execution.journal import Journal
from mastertrade.engine.execution.live import LiveBroker
from mastertrade.engine.execution.protection import Levels
from mastertrade.engine.execution.strategies import StaticStrategies, TradedStrategy
from mastertrade.engine.execution.trader import PriceUpdate, Trader
from mastertrade.engine.execution.wiring import build_trader
from mastertrade.engine.market.ccxt_venue import CcxtVenue
from mastertrade.engine.market.store import CandleStore, SeriesKey
from mastertrade.engine.market.timeframes import now_ms
from mastertrade.engine.signals.genome import parse_genome
from mastertrade.engine.signals.strategy import Strategy
from tests.fakes.exchange import FAST_CCXT, venue_settings
from tests.fakes.exchange_trading import API_KEY, SECRET, DeskOrder, TradingExchange
from tests.trading.conftest import trading_settings
from tests.trading.live_rig import ANSWER_S, open_desk

BTC = "BTC/USDT"
HOUR = 3_600_000
CONSENT = require_live("live", True)


class Killed(BaseException):
    """The daemon's process dies here (nothing after this line runs)."""


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset


class Desk:
    """A live strategy ("guarded": enters on an up bar, exits on a down bar) on the fake exchange; each
    ``run()`` is one daemon run (a new trader and live broker on the same database)."""

    def __init__(self, db: Any, exchange: TradingExchange, *, native: bool = False, **bracket: float) -> None:
        self.db = db
        self.exchange = exchange
        self.clock = Clock()
        self.events: list[events.Event] = []
        self.venues: list[CcxtVenue] = []
        genome = {
            "name": "guarded",
            "symbol": BTC,
            "timeframe": "1h",
            "entry": {">": [{"price": "close"}, {"price": "open"}]},
            "exit": {"<": [{"price": "close"}, {"price": "open"}]},
            "size": 0.5,
            **bracket,
        }
        self.strategy = TradedStrategy("guarded", "active", Strategy.from_genome(parse_genome(genome)))
        self.others: list[TradedStrategy] = []
        """More strategies traded beside "guarded" (added before ``run``)."""
        # The daemon's own watch is what these tests check; native_stops.py's tests add the resting stop.
        self.settings = trading_settings(
            market={"symbols": [BTC], "timeframe": "1h"},
            risk={"stale_after_s": 30.0},
            execution={"native_stops": native},
        )
        self.candles = CandleStore(db)
        self.ts = (now_ms() // HOUR - 1) * HOUR  # the bar the entry signal closes; the entry bar is now
        self.forming: list[float] | None = None

    async def run(self) -> Trader:
        venue = CcxtVenue(
            ExchangeSettings(**venue_settings(self.exchange, api_key=API_KEY, secret=SECRET, timeout_s=1.0)),
            options=FAST_CCXT,
        )
        self.venues.append(venue)
        broker = LiveBroker(
            Journal(self.db),
            venue,
            CONSENT,
            clock=self.clock,
            unknown_grace_s=1.0,
            answer_within_s=ANSWER_S,
            publish=self.events.append,
        )  # the daemon hands both the broker and the account its bus
        trader = build_trader(
            self.settings,
            self.db,
            self.candles,
            venue_id="binance",
            broker=broker,
            strategies=StaticStrategies([self.strategy, *self.others]),
            publish=self.events.append,
            clock=self.clock,
        )
        broker.on_error = trader.account.risk.on_exchange_error
        await trader.start()
        return trader

    async def close(self) -> None:
        for venue in self.venues:
            await venue.close()

    async def close_bar(self, trader: Trader, o: float, h: float, low: float, c: float) -> None:
        """The bar closes (stored first, as the market feed does); the exchange trades at its close."""
        await self.candles.upsert(SeriesKey("binance", BTC, "1h"), [(self.ts, o, h, low, c, 1.0)])
        self.exchange.set_price(BTC, c)
        await trader.on_candle_closed(
            PriceUpdate(BTC, "1h", Bar(Candle(self.ts, o, h, low, c)), simulated=False)
        )
        self.ts += HOUR
        self.forming = None

    async def enter(self, trader: Trader, price: float = 40_000.0) -> DeskOrder:
        """An up bar closing at ``price``: the strategy buys at the exchange, at that price."""
        await self.close_bar(trader, price * 0.99, price * 1.001, price * 0.985, price)
        [buy] = self.orders("BUY")
        assert buy.status == "FILLED"
        return buy

    async def tick(self, trader: Trader, price: float) -> None:
        """A price update of the forming bar; the exchange trades at that price."""
        if self.forming is None:
            self.forming = [price, price, price]
        o, h, low = self.forming
        self.forming = [o, max(h, price), min(low, price)]
        self.exchange.set_price(BTC, price)
        bar = Bar(Candle(self.ts, o, self.forming[1], self.forming[2], price), closed=False)
        await trader.on_price(PriceUpdate(BTC, "1h", bar, simulated=False))

    def orders(self, side: str) -> list[DeskOrder]:
        return [order for order in self.exchange.placed if order.side == side]

    def posts(self) -> int:
        return len([r for r in self.exchange.requests_to("/api/v3/order") if r.method == "POST"])

    async def protections(self) -> list[ProtectionRecord]:
        from sqlmodel import col, select

        async with self.db.sessions() as session:
            query = select(ProtectionRecord).order_by(col(ProtectionRecord.id))
            return list((await session.exec(query)).all())


@pytest.fixture
def exchange() -> Iterator[TradingExchange]:
    yield from open_desk()


@pytest.fixture
def bracket() -> dict[str, float]:
    return {"stop_loss": 0.05}


@pytest.fixture
async def desk(database: Any, exchange: TradingExchange, bracket: dict[str, float]) -> Any:
    desk = Desk(database, exchange, **bracket)
    try:
        yield desk
    finally:
        await desk.close()


async def status(trader: Trader) -> RiskStatus:
    return RiskStatus.model_validate(await trader.account.risk_status())


async def test_ticks_below_the_stop_sell_exactly_once_and_exits_are_never_blocked(desk: Desk) -> None:
    trader = await desk.run()
    buy = await desk.enter(trader)
    shown = (await status(trader)).protection
    assert shown is not None and shown.by == "daemon" and shown.protected_positions == 1
    [guard] = shown.protections
    assert guard.state == "active" and guard.entry_price == 40_000.0
    assert guard.stop_price == pytest.approx(38_000.0) and guard.stop_role == "stop_loss"
    assert guard.amount == pytest.approx(buy.executed)

    await trader.account.halt("the kill switch stops entries, never exits")
    await desk.tick(trader, 39_000.0)
    assert desk.orders("SELL") == []
    for price in (37_900.0, 37_500.0, 37_000.0):
        await desk.tick(trader, price)
    [sell] = desk.orders("SELL")
    assert sell.status == "FILLED" and sell.quantity == pytest.approx(buy.executed)
    assert float(sell.trades[0]["price"]) == 37_900.0
    assert desk.posts() == 2

    row = await trader.account.journal.get(client_order_id=sell.client_order_id)
    assert row.role == "stop_loss" and row.strategy_id == "guarded" and row.state == "filled"
    assert (await trader.account.positions()) == []
    [record] = await desk.protections()
    assert record.state == "closed" and "stop_loss at 38000" in (record.reason or "")
    assert (await status(trader)).protection.protected_positions == 0  # type: ignore[union-attr]
    audit = await trader.account.audit(100)
    kinds = [(row["kind"], row["side"]) for row in audit if row["strategy_id"] == "guarded"]
    assert ("approve", "sell") in kinds
    protection_audit = [row["reason"] for row in audit if row["kind"] == "protection"]
    assert any(reason.startswith("armed") for reason in protection_audit)
    assert any("stop_loss of BTC/USDT at 38000 reached" in reason for reason in protection_audit)
    assert any(reason.startswith("closed") for reason in protection_audit)


async def test_a_gap_below_the_stop_sells_at_once(desk: Desk) -> None:
    trader = await desk.run()
    await desk.enter(trader)
    await desk.tick(trader, 36_000.0)  # the entry bar opens far below the stop
    [sell] = desk.orders("SELL")
    assert float(sell.trades[0]["price"]) == 36_000.0


@pytest.mark.parametrize("bracket", [{"stop_loss": 0.05, "take_profit": 0.04}])
async def test_take_profit(desk: Desk) -> None:
    trader = await desk.run()
    await desk.enter(trader)
    [guard] = (await status(trader)).protection.protections  # type: ignore[union-attr]
    assert guard.take_price == pytest.approx(41_600.0)
    await desk.tick(trader, 41_000.0)
    await desk.tick(trader, 41_700.0)
    await desk.tick(trader, 41_900.0)
    [sell] = desk.orders("SELL")
    assert float(sell.trades[0]["price"]) == 41_700.0
    row = await trader.account.journal.get(client_order_id=sell.client_order_id)
    assert row.role == "take_profit"


@pytest.mark.parametrize("bracket", [{"trailing_stop": 0.05}])
async def test_the_trailing_stop_rises_with_the_price_and_triggers_on_the_pullback(desk: Desk) -> None:
    trader = await desk.run()
    await desk.enter(trader)
    await desk.tick(trader, 44_000.0)
    await desk.tick(trader, 42_000.0)  # the level raised by this bar is in force from the next bar only
    assert desk.orders("SELL") == []
    await desk.close_bar(trader, 40_000.0, 44_000.0, 39_500.0, 43_000.0)
    [guard] = (await status(trader)).protection.protections  # type: ignore[union-attr]
    assert guard.trail_peak == 44_000.0 and guard.stop_price == pytest.approx(41_800.0)
    assert guard.stop_role == "trailing_stop"
    await desk.close_bar(trader, 43_000.0, 43_100.0, 42_000.0, 43_000.0)  # a lower high: it never falls
    [guard] = (await status(trader)).protection.protections  # type: ignore[union-attr]
    assert guard.stop_price == pytest.approx(41_800.0)
    [stored] = await desk.protections()
    assert stored.trail_peak == 44_000.0  # persisted: a restart keeps the raised level
    await desk.tick(trader, 42_500.0)
    assert desk.orders("SELL") == []
    await desk.tick(trader, 41_700.0)
    [sell] = desk.orders("SELL")
    assert float(sell.trades[0]["price"]) == 41_700.0
    row = await trader.account.journal.get(client_order_id=sell.client_order_id)
    assert row.role == "trailing_stop"


async def test_a_restarted_daemon_still_protects_the_position(desk: Desk) -> None:
    first = await desk.run()
    buy = await desk.enter(first)
    await desk.tick(first, 39_500.0)
    restarted = await desk.run()  # the first daemon is gone; a new one starts on the same database
    shown = (await status(restarted)).protection
    assert shown is not None and shown.protected_positions == 1
    await desk.tick(restarted, 37_000.0)
    await desk.tick(restarted, 36_500.0)
    [sell] = desk.orders("SELL")
    assert sell.quantity == pytest.approx(buy.executed)


async def test_killed_between_journaling_the_sell_and_sending_it(desk: Desk) -> None:
    first = await desk.run()
    await desk.enter(first)

    async def die(row: Any) -> Any:
        raise Killed

    first.account.broker._send = die  # type: ignore[attr-defined]
    with pytest.raises(Killed):
        await desk.tick(first, 37_000.0)
    [intent] = await first.account.journal.orders(book="live", states=None, limit=1)
    assert intent.side == "sell" and intent.state == "intent" and desk.orders("SELL") == []

    restarted = await desk.run()  # reconciling sends the recent intent once; the protection sees it fill
    [sell] = desk.orders("SELL")
    assert sell.client_order_id == intent.client_order_id
    [record] = await desk.protections()
    assert record.state == "closed" and record.exit_client_order_id == intent.client_order_id
    await desk.tick(restarted, 36_000.0)
    assert len(desk.orders("SELL")) == 1 and desk.posts() == 2


async def test_killed_between_sending_the_sell_and_its_answer(desk: Desk) -> None:
    first = await desk.run()
    await desk.enter(first)
    desk.exchange.after_accept("hang")
    task = asyncio.create_task(desk.tick(first, 37_000.0))
    for _ in range(300):
        if desk.orders("SELL"):
            break
        await asyncio.sleep(0.01)
    task.cancel()  # the daemon dies while the exchange holds the sell and its answer is on its way
    with pytest.raises(asyncio.CancelledError):
        await task
    [sent] = await first.account.journal.orders(book="live", limit=1)
    assert sent.side == "sell" and sent.state == "sent"

    restarted = await desk.run()  # resolved by its client order id, not sent again
    assert (await restarted.account.journal.get(sent.id)).state == "filled"
    [record] = await desk.protections()
    assert record.state == "closed"
    await desk.tick(restarted, 36_000.0)
    [sell] = desk.orders("SELL")
    assert sell.client_order_id == sent.client_order_id and desk.posts() == 2


async def test_killed_after_the_trigger_before_the_sell_was_journaled(desk: Desk) -> None:
    first = await desk.run()
    await desk.enter(first)

    async def die(*args: Any, **kwargs: Any) -> Any:
        raise Killed

    first.account.broker.journal.create_order = die  # type: ignore[attr-defined, method-assign]
    with pytest.raises(Killed):
        await desk.tick(first, 37_000.0)
    [record] = await desk.protections()
    assert record.state == "triggered"

    restarted = await desk.run()  # nothing was sent: the protection is armed again
    [record] = await desk.protections()
    assert record.state == "active" and "never journaled" in (record.reason or "")
    await desk.tick(restarted, 36_800.0)  # the next price decides again
    [sell] = desk.orders("SELL")
    assert float(sell.trades[0]["price"]) == 36_800.0


async def test_an_exit_signal_removes_the_protection(desk: Desk) -> None:
    trader = await desk.run()
    await desk.enter(trader)
    await desk.tick(trader, 39_500.0)
    await desk.close_bar(trader, 39_500.0, 39_600.0, 38_500.0, 39_000.0)  # a down bar: the exit signal
    [exit_] = desk.orders("SELL")
    assert (await trader.account.journal.get(client_order_id=exit_.client_order_id)).role == "exit"
    [record] = await desk.protections()
    assert record.state == "closed" and "exit signal" in (record.reason or "")
    await desk.tick(trader, 36_000.0)
    assert len(desk.orders("SELL")) == 1
    assert (await status(trader)).protection.protections == []  # type: ignore[union-attr]


async def test_a_manual_sell_removes_the_protection(desk: Desk) -> None:
    trader = await desk.run()
    buy = await desk.enter(trader)
    await desk.tick(trader, 39_500.0)
    await trader.account.place(BTC, "sell", buy.executed, live=True)
    await desk.tick(trader, 36_000.0)
    assert len(desk.orders("SELL")) == 1
    [record] = await desk.protections()
    assert record.state == "closed" and "manual sell" in (record.reason or "")


@pytest.mark.parametrize("fault", ["503", "hang", "drop"])
async def test_a_lost_answer_to_the_protective_sell_is_resolved_by_client_id(desk: Desk, fault: str) -> None:
    trader = await desk.run()
    await desk.enter(trader)
    desk.exchange.after_accept(fault)  # type: ignore[arg-type]
    await desk.tick(trader, 37_000.0)
    await desk.tick(trader, 36_900.0)
    [sell] = desk.orders("SELL")
    assert desk.posts() == 2  # one buy, one sell: never resent
    row = await trader.account.journal.get(client_order_id=sell.client_order_id)
    assert row.state == "filled"
    [record] = await desk.protections()
    assert record.state == "closed"


async def test_a_sell_that_never_reached_the_exchange_is_sent_again_only_once_proven_lost(
    desk: Desk,
) -> None:
    trader = await desk.run()
    await desk.enter(trader)
    desk.exchange.drop(path="/api/v3/order")  # dropped before the exchange read it
    await desk.tick(trader, 37_000.0)
    [lost] = await trader.account.journal.orders(book="live", limit=1)
    assert lost.side == "sell" and lost.state == "unknown"
    await desk.tick(trader, 36_900.0)  # triggered already: no second order while the first may exist
    await trader.housekeeping()
    assert desk.posts() == 2 and (await desk.protections())[0].state == "triggered"

    desk.clock.offset = timedelta(seconds=15)  # past the receive window: it provably never arrived
    await trader.housekeeping()
    assert (await trader.account.journal.get(lost.id)).state == "rejected"
    [record] = await desk.protections()
    assert record.state == "active" and "rejected" in (record.reason or "")
    await desk.tick(trader, 36_800.0)  # a failed sell is retried after a pause, not on every tick
    assert desk.posts() == 2
    desk.clock.offset += timedelta(seconds=6)
    await desk.tick(trader, 36_700.0)
    [sell] = desk.orders("SELL")
    assert sell.client_order_id != lost.client_order_id and desk.posts() == 3
    assert (await desk.protections())[0].state == "closed"


async def test_an_entry_answered_late_is_protected_once_it_is_known(desk: Desk) -> None:
    trader = await desk.run()
    desk.exchange.after_accept("503")
    desk.exchange.fail(503, times=5, path="/api/v3/order", after=1)  # and the lookups fail for a while
    await desk.close_bar(trader, 39_600.0, 40_040.0, 39_400.0, 40_000.0)
    [record] = await desk.protections()
    assert record.state == "pending"
    await trader.housekeeping()  # the broker resolves the entry by its client id; then it is armed
    [record] = await desk.protections()
    assert record.state == "active" and record.entry_price == 40_000.0
    await desk.tick(trader, 37_500.0)
    assert len(desk.orders("SELL")) == 1


async def test_stale_prices_trip_the_breaker_and_say_the_protection_is_degraded(desk: Desk) -> None:
    trader = await desk.run()
    await desk.enter(trader)
    await desk.tick(trader, 39_800.0)
    desk.clock.offset = timedelta(seconds=45)  # no price for longer than stale_after_s (30)
    await trader.housekeeping()
    shown = await status(trader)
    assert any(b.name == "stale_data" and b.tripped for b in shown.breakers)
    assert shown.protection is not None and shown.protection.degraded
    assert "protection degraded" in (shown.protection.degraded_reason or "")
    [alert] = [e for e in desk.events if isinstance(e, events.RiskBreached) and e.limit == "protection"]
    assert alert.severity == "critical" and alert.symbol == BTC
    await trader.housekeeping()  # said once, not on every round
    assert len([e for e in desk.events if isinstance(e, events.RiskBreached)]) == 1

    await desk.tick(trader, 39_900.0)  # prices again
    await trader.housekeeping()
    shown = await status(trader)
    assert not shown.protection.degraded  # type: ignore[union-attr]
    assert not any(b.name == "stale_data" and b.tripped for b in shown.breakers)


def test_levels_follow_the_backtest_rules() -> None:
    levels = Levels.arm(100.0, 0.05, 0.10, None)
    assert (levels.stop, levels.take) == (pytest.approx(95.0), pytest.approx(110.0))
    both = levels.hit(94.0, 111.0)
    assert both is not None and both.role == "stop_loss"  # both reached in one bar: the stop counts
    assert levels.hit(96.0, 109.0) is None
    take = levels.hit(99.0, 110.5)
    assert take is not None and take.role == "take_profit" and take.seen == 110.5

    trailing = Levels.arm(100.0, 0.10, None, 0.05)
    assert trailing.stop == pytest.approx(95.0) and trailing.stop_role == "trailing_stop"
    raised = trailing.after_close(120.0)
    assert raised.stop == pytest.approx(114.0)
    assert raised.after_close(110.0).stop == raised.stop  # never falls
    assert Levels.arm(100.0, 0.02, None, 0.05).stop_role == "stop_loss"  # the fixed stop is higher


async def test_migration_matches_the_model(database: Any) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from mastertrade.db.models import metadata

    def compare(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    async with database.engine.connect() as connection:
        diffs = await connection.run_sync(compare)
    assert [diff for diff in diffs if "protections" in repr(diff)] == []


async def test_a_protection_moves_once_however_many_callers_race(database: Any) -> None:
    from mastertrade.engine.execution.protection_store import Guard, ProtectionStore

    await Journal(database).ensure_book("live", mode="live", quote="USDT")
    store = ProtectionStore(database)
    row = await store.create(
        "live", BTC, "s", "mt-entry", stop_loss=0.05, take_profit=None, trailing_stop=None
    )
    armed = await store.move(row, Guard.PENDING, Guard.ACTIVE, entry_price=100.0, amount=1.0)
    assert armed is not None
    # two daemons saw the same tick: only one of them triggers (and so sends a sell)
    first = await store.move(armed, Guard.ACTIVE, Guard.TRIGGERED, exit_client_order_id="mt-a")
    second = await store.move(armed, Guard.ACTIVE, Guard.TRIGGERED, exit_client_order_id="mt-b")
    assert first is not None and second is None
    assert (await store.get(row.id)).exit_client_order_id == "mt-a"  # type: ignore[arg-type]
    assert [r.id for r in await store.open("live")] == [row.id]
