"""Circuit breakers: they trip, persist across a restart, reset by rule and by hand; everything is audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from mastertrade.config import RiskSettings
from mastertrade.engine import events
from mastertrade.engine.risk.breakers import Breaker, Breakers
from mastertrade.engine.risk.check import Holding, PortfolioSnapshot, ProposedOrder, Reason
from mastertrade.engine.risk.manager import CircuitBreakerReset, RiskManager
from mastertrade.engine.risk.store import RiskStore

T0 = datetime(2026, 5, 1, 12, tzinfo=UTC)
POLICY = RiskSettings(price_move_cooldown_s=600, losses_cooldown_s=3600, error_cooldown_s=60)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_price_move_within_a_bar_and_a_minute() -> None:
    breakers = Breakers(POLICY)
    assert breakers.on_bar("BTC/USDT", 100, 105, 98, T0) == []  # 7% range < 10%
    [change] = breakers.on_bar("BTC/USDT", 100, 108, 97, T0)
    assert change.action == "trip" and "11.0% within one bar" in change.reason
    assert change.state.until == T0 + timedelta(seconds=600)
    other = Breakers(POLICY)
    assert other.on_price("ETH/USDT", 0, 100.0, T0) == []
    assert other.on_price("ETH/USDT", 30_000, 103.0, T0) == []
    assert other.on_price("ETH/USDT", 61_000, 106.0, T0) == []  # 100 has left the minute: 103 -> 106
    [trip] = other.on_price("ETH/USDT", 90_000, 98.0, T0)  # 106 -> 98 within the minute: 8.2%
    assert "within one minute" in trip.reason


def test_consecutive_losses_and_error_bursts() -> None:
    breakers = Breakers(RiskSettings(consecutive_losses=3, error_burst=3, error_window_s=10))
    assert breakers.on_trade_closed(-1, T0) == [] and breakers.on_trade_closed(-1, T0) == []
    assert breakers.on_trade_closed(+1, T0) == []  # a win ends the run
    for _ in range(2):
        assert breakers.on_trade_closed(-1, T0) == []
    [trip] = breakers.on_trade_closed(-5, T0)
    assert trip.name is Breaker.CONSECUTIVE_LOSSES and "3 losing trades" in trip.reason
    assert (
        breakers.on_exchange_error(T0) == [] and breakers.on_exchange_error(T0 + timedelta(seconds=20)) == []
    )
    assert breakers.on_exchange_error(T0 + timedelta(seconds=21)) == []  # the first one left the window
    [burst] = breakers.on_exchange_error(T0 + timedelta(seconds=22), "create_order: 503")
    assert burst.name is Breaker.EXCHANGE_ERRORS and "last: create_order: 503" in burst.reason


def test_stale_data_resets_when_prices_are_fresh() -> None:
    breakers = Breakers(RiskSettings(stale_after_s=60))
    fresh = {"BTC/USDT": T0, "ETH/USDT": T0}
    assert breakers.on_freshness(fresh, T0 + timedelta(seconds=30)) == []
    [trip] = breakers.on_freshness(
        {**fresh, "ETH/USDT": T0 - timedelta(seconds=50)}, T0 + timedelta(seconds=30)
    )
    assert trip.action == "trip" and "ETH/USDT" in trip.reason
    [reset] = breakers.on_freshness({"BTC/USDT": T0, "ETH/USDT": T0}, T0 + timedelta(seconds=31))
    assert reset.action == "reset" and reset.by == "rule"


async def test_trips_persist_across_a_restart_and_reset_by_rule_and_by_hand(database: Any) -> None:
    clock = Clock()
    published: list[events.Event] = []
    store = RiskStore(database)
    manager = RiskManager(store, POLICY, publish=published.append, clock=clock)
    await manager.start()
    await manager.on_bar("BTC/USDT", 100, 120, 99)
    await manager.halt("going on holiday")
    assert manager.controls().halted and manager.controls().tripped
    assert [type(e) for e in published] == [events.CircuitBreakerTripped, events.CircuitBreakerTripped]
    assert published[1].breaker == "kill_switch"  # type: ignore[attr-defined]

    # "restart": a new manager on the same database finds both tripped
    clock.now = T0 + timedelta(seconds=300)
    restarted = RiskManager(store, POLICY, publish=published.append, clock=clock)
    await restarted.start()
    controls = restarted.controls()
    assert controls.halted and controls.halt_reason == "going on holiday"
    assert [name for name, _ in controls.tripped] == ["price_move"]

    # while tripped, entries are refused with the reason; exits pass
    portfolio = PortfolioSnapshot(cash=9_000, holdings={"BTC/USDT": Holding(10, 100)})
    entry = await restarted.check(ProposedOrder("BTC/USDT", "buy", 1, 100), portfolio, book="paper")
    assert entry.codes == [Reason.KILL_SWITCH.value]
    exit_ = await restarted.check(ProposedOrder("BTC/USDT", "sell", 10, 100), portfolio, book="paper")
    assert exit_.approved

    # the cool-down resets the price-move breaker by rule; the kill switch needs a hand
    clock.now = T0 + timedelta(seconds=601)
    [reset] = await restarted.expire()
    assert reset.name is Breaker.PRICE_MOVE and reset.by == "rule"
    assert restarted.controls().halted
    again = RiskManager(store, POLICY, clock=clock)
    await again.start()
    assert again.controls().tripped == () and again.controls().halted
    changes = await again.resume(drawdown_since_ts=1234)
    assert [c.name for c in changes] == [Breaker.KILL_SWITCH] and changes[0].by == "hand"
    assert again.drawdown_since_ts == 1234
    final = RiskManager(store, POLICY, clock=clock)
    await final.start()
    assert not final.controls().halted and final.drawdown_since_ts == 1234
    assert isinstance(published[-1], CircuitBreakerReset)

    # every decision is in the audit log
    kinds = [record.kind for record in reversed(await store.audit_log(limit=100))]
    assert kinds == ["breaker_trip", "halt", "reject", "approve", "breaker_reset", "breaker_reset", "resume"]
    reject = (await store.audit_log(kind="reject"))[0]
    assert "kill switch" in reject.reason and reject.symbol == "BTC/USDT" and reject.requested == 1
    await final.resume(drawdown_since_ts=5678, reset_drawdown=False)  # a resume that keeps the peak
    assert final.drawdown_since_ts == 1234
    [kept] = await store.audit_log(limit=1)
    assert kept.kind == "resume" and "drawdown baseline kept" in kept.reason


async def test_the_loss_count_survives_a_restart(database: Any) -> None:
    clock = Clock()
    store = RiskStore(database)
    policy = RiskSettings(consecutive_losses=3, losses_cooldown_s=60)
    first = RiskManager(store, policy, clock=clock)
    await first.start()
    await first.on_trade_closed(-1)
    await first.on_trade_closed(-2)
    second = RiskManager(store, policy, clock=clock)
    await second.start()
    [trip] = await second.on_trade_closed(-3)
    assert trip.name is Breaker.CONSECUTIVE_LOSSES
