"""Market time in a simulation: schedules, breaker cool-downs and goal periods run on the simulated
clock, so a one-hour cool-down or an hourly job is one *simulated* hour however fast the market runs.

The daemon here runs on a simulated venue (the test's ``FakeVenue``) and a real wall clock; the test
moves the market by pushing bars, never by sleeping, and waits for the events the engine publishes. An
hour of market time passes in milliseconds of wall time, so anything still timed by the wall clock
would never fire.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from mastertrade.config import RiskSettings, Settings
from mastertrade.engine import events
from mastertrade.engine.kernel.clock import FakeClock, MarketTime
from mastertrade.engine.risk.breakers import Breaker
from mastertrade.engine.risk.manager import CircuitBreakerReset, RiskManager
from mastertrade.engine.risk.store import RiskStore
from tests.daemon.fakes import HOUR, T0
from tests.trading.conftest import TradingEngine, trading_settings

BTC = "BTC/USDT"
WALL = datetime(2030, 6, 1, tzinfo=UTC)  # far from the market's time


def market(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return trading_settings(
        scheduler={"enabled": True, "jobs": {"risk_metrics": "0 * * * *", "goal_snapshots": "0 0 * * *"}},
        risk={"price_move_cooldown_s": 3600.0, "price_move_bar": 0.10},
    )


async def test_market_time_follows_the_feed_and_wakes_sleepers_only_as_it_moves() -> None:
    clock = MarketTime(FakeClock(WALL))
    assert clock.now() == WALL and not clock.started  # nothing seen: the wall clock
    early = asyncio.create_task(clock.sleep(1800))  # begun before the first price: counts from it
    await asyncio.sleep(0)
    clock.observe(T0)
    assert clock() == market(T0)
    late = asyncio.create_task(clock.sleep(3600))
    await asyncio.sleep(0)
    clock.observe(T0 + 1_799_999)
    await asyncio.sleep(0)
    assert not early.done() and clock.sleepers == 2
    clock.observe(T0 - 5 * HOUR)  # never goes back
    assert clock.now() == market(T0 + 1_799_999)
    clock.observe(T0 + 1_800_000)
    await asyncio.sleep(0)
    assert early.done() and not late.done()
    clock.observe(T0 + 2 * HOUR)  # a jump past a deadline wakes it too
    await asyncio.sleep(0)
    assert late.done() and clock.sleepers == 0


async def test_a_one_hour_cool_down_is_one_simulated_hour(database: Any) -> None:
    clock = MarketTime(FakeClock(WALL))
    policy = RiskSettings(consecutive_losses=2, losses_cooldown_s=3600)
    risk = RiskManager(RiskStore(database), policy, clock=clock)
    await risk.start()
    clock.observe(T0)
    await risk.on_trade_closed(-1.0)
    await risk.on_trade_closed(-1.0)
    assert Breaker.CONSECUTIVE_LOSSES.value in {name for name, _ in risk.breakers.tripped()}
    clock.observe(T0 + HOUR - 1)  # 59m59.999s of market time later: still tripped
    await risk.expire()
    assert Breaker.CONSECUTIVE_LOSSES.value in {name for name, _ in risk.breakers.tripped()}
    clock.observe(T0 + HOUR)
    await risk.expire()
    assert Breaker.CONSECUTIVE_LOSSES.value not in {name for name, _ in risk.breakers.tripped()}


async def _next(subscription: Any, kind: type[Any], **match: Any) -> Any:
    """The next event of ``kind`` (with the given fields) the engine publishes."""
    while True:
        event = await subscription.get(wait_s=10)
        if isinstance(event, kind) and all(getattr(event, key) == value for key, value in match.items()):
            return event


async def test_schedules_run_on_simulated_time(trading: TradingEngine) -> None:
    """An hourly job runs once per simulated hour; a daily job at simulated midnight."""
    finished = trading.ctx.bus.subscribe({"job.finished"}, name="test")
    assert isinstance(trading.ctx.market_time, MarketTime)
    # The scheduler's first look at the clock is before any price (the wall clock's time; a loop that
    # started slowly, at bar 0's forming update, counted 00:00 to 01:00 as an hour and ran a fourth time).
    scheduler = trading.ctx.get(_scheduler())
    await trading.wait(lambda: scheduler._next, "the scheduler to plan its runs")
    await trading.bar(BTC, 0, 100, 101, 99, 100)  # market time 01:00 (the wall clock is months away)
    for i in range(1, 4):
        await trading.bar(BTC, i, 100, 101, 99, 100)  # closes at (i + 1):00: the hourly job fires
        run = await _next(finished, events.JobFinished, job="risk_metrics")
        assert run.outcome == "ok"
    assert trading.ctx.market_time.now() == market(T0 + 4 * HOUR)
    runs = await trading.ctx.get(_scheduler()).runs.recent("risk_metrics")
    assert len(runs) == 3
    # No market time passes, no job runs: the scheduler sleeps on the market, not on the wall clock.
    await trading.wait(lambda: trading.ctx.market_time.sleepers > 0, "the scheduler to sleep")
    assert finished.get_nowait() is None
    finished.close()


def _scheduler() -> Any:
    from mastertrade.engine.scheduler.service import SchedulerService

    return SchedulerService


async def test_goal_periods_and_their_snapshots_run_on_simulated_time(trading: TradingEngine) -> None:
    finished = trading.ctx.bus.subscribe({"job.finished"}, name="test")
    for i in range(20, 24):  # 2026-01-01 20:00 .. the close of 23:00 is simulated midnight
        await trading.bar(BTC, i, 100, 101, 99, 100 + i)
    run = await _next(finished, events.JobFinished, job="goal_snapshots")
    assert run.outcome == "ok"
    snapshot = await trading.trader.account.risk.store.latest_snapshot("goals", trading.trader.account.book)
    assert snapshot is not None
    goals = {goal["name"]: goal for goal in snapshot.data["goals"]}
    monthly = goals["monthly return"]
    # The goal's "now" and its month are the market's (January 2026), not the wall clock's.
    assert monthly["now"].startswith("2026-01-01T2")
    assert monthly["period_start"] == "2026-01-01T00:00:00Z"
    assert monthly["period_end"] == "2026-02-01T00:00:00Z"
    finished.close()


async def test_a_breaker_cool_down_ends_after_one_simulated_hour(trading: TradingEngine) -> None:
    """A one-hour cool-down (``price_move_cooldown_s = 3600``) ends once the market has moved an hour,
    at the next price, not at the wall clock's next housekeeping an hour later."""
    reset = trading.ctx.bus.subscribe({"risk.breaker_reset"}, name="test")
    await trading.bar(BTC, 0, 100, 101, 99, 100)
    await trading.bar(BTC, 1, 100, 125, 99, 120)  # a 26% range: the price-move breaker trips at 02:00
    risk = trading.trader.account.risk
    assert Breaker.PRICE_MOVE.value in {name for name, _ in risk.breakers.tripped()}
    async with trading.client() as client:

        async def tripped() -> set[str]:
            return {breaker.name for breaker in (await client.risk_status()).breakers if breaker.tripped}

        assert await tripped() == {Breaker.PRICE_MOVE.value}
        await trading.bar(BTC, 2, 120, 121, 119, 120)  # market 03:00: one simulated hour later
        event = await _next(reset, CircuitBreakerReset, breaker=Breaker.PRICE_MOVE.value)
        assert event.reason == "cool-down over"
        assert await tripped() == set()
    reset.close()


async def test_the_one_minute_price_rule_reads_each_ticks_market_time(trading: TradingEngine) -> None:
    """A simulated bar forms tick by tick, each tick at its own time inside the bar: a 6% move over half
    an hour of market time is no "5% within one minute", the same move within thirty seconds is."""
    from mastertrade.engine.candle import Candle
    from mastertrade.engine.market.venue import CandleUpdate

    venue, risk = trading.venue, trading.trader.account.risk
    minute = 60_000

    async def tick(i: int, at_min: float, price: float, low: float) -> None:
        ts = T0 + i * HOUR
        at = ts + int(at_min * minute)
        venue.push(CandleUpdate(BTC, "1h", Candle(ts, low, price, low, price, 1.0), False, at=at))
        await trading.wait(lambda: trading.ctx.market_time.now() >= market(at), "the tick")
        await trading.wait(lambda: trading.trader.market_clock.now() >= market(at), "the trader")
        await trading.wait(lambda: not trading.ctx.state.inflight, "the trader to handle it")

    await tick(0, 5, 100.0, 100.0)
    await tick(0, 35, 106.0, 100.0)
    assert Breaker.PRICE_MOVE.value not in {name for name, _ in risk.breakers.tripped()}
    await trading.bar(BTC, 0, 100, 106, 100, 106, ticks=False)
    await tick(1, 0.2, 106.0, 106.0)
    await tick(1, 0.7, 113.0, 106.0)
    assert Breaker.PRICE_MOVE.value in {name for name, _ in risk.breakers.tripped()}
