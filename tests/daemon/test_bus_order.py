"""Coalescing keeps the order of publication: a newer tick never overtakes an event published before it
(the close of bar t always arrives before any tick of bar t+1, however far behind the subscriber is)."""

from __future__ import annotations

from mastertrade.engine.bus import EventBus
from mastertrade.engine.candle import Candle
from mastertrade.engine.events import CandleClosed, PriceTick


def tick(bar_ts: int, close: float) -> PriceTick:
    return PriceTick(venue="sim", symbol="BTC/USDT", timeframe="1h", candle=Candle(bar_ts, 1, 2, 1, close, 1))


def closed(ts: int) -> CandleClosed:
    return CandleClosed(venue="sim", symbol="BTC/USDT", timeframe="1h", candle=Candle(ts, 1, 2, 1, 1, 1))


async def test_a_tick_never_jumps_ahead_of_a_close() -> None:
    bus = EventBus()
    slow = bus.subscribe({"price.tick", "candle.closed"}, name="slow")
    bus.publish(tick(0, 1.0))
    bus.publish(tick(0, 1.5))  # coalesced with the first: nothing in between
    bus.publish(closed(0))
    bus.publish(tick(1, 2.0))  # must not replace the bar-0 tick queued before the close
    bus.publish(tick(1, 2.5))  # coalesced with the bar-1 tick
    bus.publish(closed(1))
    seen = []
    while (event := slow.get_nowait()) is not None:
        seen.append((event.type, getattr(event, "bar_ts", getattr(event, "ts", None)), event.candle.close))
    assert seen == [
        ("price.tick", 0, 1.5),
        ("candle.closed", 0, 1),
        ("price.tick", 1, 2.5),
        ("candle.closed", 1, 1),
    ]
    assert slow.coalesced == 2
