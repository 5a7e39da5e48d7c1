"""The event bus: fan-out, filters, slow subscribers (coalescing, drop-oldest, reliable events never
dropped, overflow), replay for resuming streams, and lag accounting."""

from __future__ import annotations

import asyncio

import pytest

from mastertrade.engine.bus import RELIABLE_HEADROOM, EventBus, SubscriptionOverflow
from mastertrade.engine.candle import Candle
from mastertrade.engine.events import (
    CandleClosed,
    JobProgress,
    OrderFilled,
    PriceTick,
    StrategyRetired,
)


def tick(symbol: str, close: float) -> PriceTick:
    return PriceTick(venue="sim", symbol=symbol, timeframe="1h", candle=Candle(0, 1, 1, 1, close, 1))


def fill(n: int) -> OrderFilled:
    return OrderFilled(
        order_id=str(n), client_order_id=f"c{n}", symbol="BTC/USDT", side="buy", amount=1, price=float(n)
    )


def candle(n: int) -> CandleClosed:
    return CandleClosed(venue="sim", symbol="BTC/USDT", timeframe="1h", candle=Candle(n, 1, 1, 1, 1, 1))


async def test_every_subscriber_gets_what_it_selects() -> None:
    bus = EventBus()
    everything = bus.subscribe(name="all")
    orders = bus.subscribe({"order"}, name="orders")
    one_type = bus.subscribe({"candle.closed"}, name="candles")
    bus.publish(tick("BTC/USDT", 1.0))
    bus.publish(fill(1))
    bus.publish(candle(1))
    assert [(await everything.get()).type for _ in range(3)] == [
        "price.tick",
        "order.filled",
        "candle.closed",
    ]
    assert (await orders.get()).type == "order.filled"
    assert (await one_type.get()).type == "candle.closed"
    assert orders.get_nowait() is None and one_type.get_nowait() is None


async def test_a_waiting_subscriber_wakes_on_publish_and_times_out_when_idle() -> None:
    bus = EventBus()
    sub = bus.subscribe()
    waiter = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    bus.publish(fill(7))
    event = await asyncio.wait_for(waiter, 1)
    assert isinstance(event, OrderFilled) and event.order_id == "7"
    with pytest.raises(TimeoutError):
        await sub.get(wait_s=0.01)


async def test_ticks_coalesce_per_symbol_for_a_slow_subscriber() -> None:
    bus = EventBus()
    sub = bus.subscribe({"price"})
    for price in range(100):
        bus.publish(tick("BTC/USDT", float(price)))
        bus.publish(tick("ETH/USDT", float(price) * 10))
    first, second = await sub.get(), await sub.get()
    assert sub.get_nowait() is None
    assert {(e.symbol, e.price) for e in (first, second)} == {("BTC/USDT", 99.0), ("ETH/USDT", 990.0)}
    assert sub.coalesced == 198 and bus.stats.coalesced == 198
    assert sub.dropped == 0


async def test_job_progress_coalesces_per_run() -> None:
    bus = EventBus()
    sub = bus.subscribe({"job"})
    for done in range(10):
        bus.publish(JobProgress(job="a", run_id=1, done=done))
        bus.publish(JobProgress(job="b", run_id=2, done=done))
    assert [(e.run_id, e.done) for e in (await sub.get(), await sub.get())] == [(1, 9), (2, 9)]


async def test_a_full_queue_drops_the_oldest_droppable_event_and_counts_it() -> None:
    bus = EventBus()
    sub = bus.subscribe(maxsize=3)
    for n in range(5):  # five symbols: nothing to coalesce
        bus.publish(tick(f"S{n}/USDT", float(n)))
    assert [e.symbol for e in (await sub.get(), await sub.get(), await sub.get())] == [
        "S2/USDT",
        "S3/USDT",
        "S4/USDT",
    ]
    assert sub.dropped == 2
    assert bus.stats.dropped["price.tick"] == 2


async def test_reliable_events_evict_ticks_and_are_never_dropped() -> None:
    bus = EventBus()
    sub = bus.subscribe(maxsize=4)
    for n in range(4):
        bus.publish(tick(f"S{n}/USDT", 1.0))
    for n in range(10):
        bus.publish(fill(n))
    got = [sub.get_nowait() for _ in range(10)]
    assert [e.order_id for e in got if isinstance(e, OrderFilled)] == [str(n) for n in range(10)]
    assert sub.get_nowait() is None
    assert bus.stats.dropped["order.filled"] == 0 and sub.dropped == 4


async def test_a_subscriber_too_far_behind_on_reliable_events_is_cut_off_loudly() -> None:
    bus = EventBus()
    slow = bus.subscribe({"order"}, maxsize=5)
    fast = bus.subscribe({"order"}, maxsize=5)
    for n in range(5 * RELIABLE_HEADROOM + 1):
        bus.publish(fill(n))
        fast.get_nowait()
    assert slow.overflowed and slow.closed and bus.stats.overflows == 1
    # What it had queued is still delivered, then it learns it missed something.
    got = [await slow.get() for _ in range(5 * RELIABLE_HEADROOM)]
    assert [e.order_id for e in got if isinstance(e, OrderFilled)] == [str(n) for n in range(20)]
    with pytest.raises(SubscriptionOverflow):
        await slow.get()
    assert not fast.closed
    assert slow not in bus.subscriptions


async def test_iteration_ends_when_the_subscription_closes() -> None:
    bus = EventBus()
    sub = bus.subscribe()
    bus.publish(fill(1))
    sub.close()
    bus.publish(fill(2))  # after close: not delivered
    assert [e.order_id async for e in sub if isinstance(e, OrderFilled)] == ["1"]


async def test_replay_gives_kept_events_after_an_id_and_reports_a_gap() -> None:
    bus = EventBus(history=5)
    seqs = [bus.publish(candle(n)) for n in range(3)]
    bus.publish(tick("BTC/USDT", 1.0))  # ticks are not kept for replay
    sub = bus.subscribe({"candle"})
    replayed = bus.replay(seqs[0], sub)
    assert replayed is not None and [e.event.ts for e in replayed] == [1, 2]
    for n in range(3, 10):
        bus.publish(candle(n))
    assert bus.replay(seqs[0], sub) is None  # candle 1 and 2 have left the history
    latest = bus.replay(bus.last_seq - 2, sub)
    assert latest is not None and [e.event.ts for e in latest] == [8, 9]


async def test_lag_is_measured_from_publish_to_delivery() -> None:
    now = [1_000_000]
    bus = EventBus(clock_ns=lambda: now[0])
    sub = bus.subscribe()
    bus.publish(StrategyRetired(strategy_id="s", name="n"))
    bus.publish(StrategyRetired(strategy_id="t", name="n"))
    now[0] += 2_000_000  # 2 ms later
    await sub.get()
    now[0] += 4_000_000
    await sub.get()
    info = bus.info()
    assert info["lag"] == {"p50_ms": 6.0, "p99_ms": 6.0, "max_ms": 6.0, "delivered": 2}
    assert info["published"] == 2 and info["subscribers"] == 1
    assert bus.stats.lag.counts[bus.stats.lag.buckets.index(0.0025)] == 1  # 2 ms <= 2.5 ms bucket


async def test_drain_takes_what_is_queued_without_waiting() -> None:
    bus = EventBus()
    sub = bus.subscribe()
    assert sub.drain(10) == []
    for n in range(5):
        bus.publish(fill(n))
    taken = sub.drain(3)
    assert [getattr(envelope.event, "order_id", None) for envelope in taken] == ["0", "1", "2"]
    assert [envelope.seq for envelope in taken] == [1, 2, 3]
    assert sub.depth == 2 and bus.stats.lag.count == 3
