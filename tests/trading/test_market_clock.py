"""Market time in a simulation: the trading core's clock is the time of the newest price the feed
delivered, so a breaker's one-hour cool-down lasts one simulated hour, however fast the market runs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mastertrade.config import RiskSettings
from mastertrade.engine.execution.market_clock import MarketClock
from mastertrade.engine.risk.breakers import Breaker
from mastertrade.engine.risk.manager import RiskManager
from mastertrade.engine.risk.store import RiskStore

HOUR = 3_600_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, far from the wall clock


def test_the_clock_follows_the_feed_and_never_goes_back() -> None:
    wall = datetime(2030, 1, 1, tzinfo=UTC)
    clock = MarketClock("1h", fallback=lambda: wall)
    assert clock() == wall  # nothing seen yet
    clock.observe(T0, closed=False)
    assert clock() == datetime(2026, 1, 1, tzinfo=UTC)
    clock.observe(T0, closed=True)  # a closed bar: its close time
    assert clock() == datetime(2026, 1, 1, 1, tzinfo=UTC)
    clock.observe(T0 - 5 * HOUR, closed=True)
    assert clock() == datetime(2026, 1, 1, 1, tzinfo=UTC)


async def test_a_one_hour_cool_down_is_one_simulated_hour(database: Any) -> None:
    clock = MarketClock("1h")
    policy = RiskSettings(consecutive_losses=2, losses_cooldown_s=3600)
    risk = RiskManager(RiskStore(database), policy, clock=clock)
    await risk.start()
    clock.observe(T0, closed=True)
    await risk.on_trade_closed(-1.0)
    await risk.on_trade_closed(-1.0)
    assert Breaker.CONSECUTIVE_LOSSES.value in {name for name, _ in risk.breakers.tripped()}
    clock.observe(T0 + HOUR - 1, closed=False)  # 59m59s of market time later: still tripped
    await risk.expire()
    assert Breaker.CONSECUTIVE_LOSSES.value in {name for name, _ in risk.breakers.tripped()}
    clock.observe(T0 + HOUR, closed=True)  # one simulated hour after the trip
    await risk.expire()
    assert Breaker.CONSECUTIVE_LOSSES.value not in {name for name, _ in risk.breakers.tripped()}
