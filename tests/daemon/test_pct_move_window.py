"""A `pct_move` rule keeps its window in bounded memory: with `--window 400d` on a busy feed it kept every
tick of the window (a daemon's memory grew for as long as the window was long). It now keeps the lowest
and highest price of each of 100 slices of the window, and still fires on every move inside the window
(from the window's low up, from its high down), and not on a move slower than the window (to one slice,
1% of it)."""

from __future__ import annotations

from typing import Any

from mastertrade.engine.alerts.move_window import SLICES, MoveWindow
from mastertrade.engine.alerts.rules import build_rule
from mastertrade.engine.candle import Candle
from mastertrade.engine.events import PriceTick

DAY = 86_400.0
T0 = 1_767_225_600.0


def tick(close: float, at: float, symbol: str = "BTC/USDT") -> PriceTick:
    return PriceTick(venue="sim", symbol=symbol, timeframe="1h", at=at, candle=Candle(0, 1, 1, 1, close, 1))


def feed(rule: Any, prices: list[tuple[float, float]], symbol: str = "BTC/USDT") -> list[str]:
    """The titles of the alerts ``rule`` raises over ``(seconds after T0, price)`` ticks."""
    fired = [rule.evaluate(tick(price, T0 + at, symbol)) for at, price in prices]
    return [candidate.title for candidate in fired if candidate is not None]


def test_the_entries_kept_stay_bounded_under_many_ticks_of_a_long_window() -> None:
    rule = build_rule("pct_move", {"pct": 5, "window": "400d"})
    wiggle = [100.0, 101.0, 100.5, 99.5, 100.0]  # 1.5% at most: never an alert
    for symbol in ("BTC/USDT", "ETH/USDT"):  # a rule on any symbol keeps a window per symbol
        ticks = [(i * 30.0, wiggle[i % len(wiggle)]) for i in range(60_000)]  # 3 weeks, a tick each 30 s
        assert feed(rule, ticks, symbol) == []
    assert rule.samples() <= 2 * (SLICES + 1)
    # the window of 400 days is 100 slices of 4 days: three weeks of ticks fill 6 of them per symbol
    assert rule.samples() == 2 * 6


def test_a_window_never_keeps_more_than_its_slices_however_long_it_runs() -> None:
    window = MoveWindow(3600.0)
    for i in range(50_000):  # about 14 hours of a tick a second
        window.add(T0 + i, 100.0 + (i % 7))
        assert len(window) <= SLICES + 1
    assert window.low() == 100.0 and window.high() == 106.0


def test_a_move_inside_a_long_window_fires_once_it_reaches_the_threshold() -> None:
    rule = build_rule("pct_move", {"symbol": "BTC/USDT", "pct": 5, "window": "30d"})
    flat = [(i * 600.0, 100.0) for i in range(20 * 144)]  # 20 days at 100, a tick every 10 minutes
    rising = [(20 * DAY + day * DAY, 100.0 + day) for day in (1, 2, 3, 4)]  # 101 ... 104: 4%
    assert feed(rule, flat + rising) == []
    assert feed(rule, [(25 * DAY, 105.2)]) == ["BTC/USDT up 5.20% in 30d"]
    # the window starts afresh: the same level again is no new move
    assert feed(rule, [(25 * DAY + 600, 105.0), (25 * DAY + 1200, 105.2)]) == []


def test_a_move_from_the_windows_low_or_high_is_not_missed() -> None:
    rule = build_rule("pct_move", {"symbol": "BTC/USDT", "pct": 5, "window": "1h"})
    # down 4.5%, then up 5.24% from that low, all within the hour
    assert feed(rule, [(0, 100.0), (600, 95.5), (1200, 100.5)]) == ["BTC/USDT up 5.24% in 1h"]
    rule = build_rule("pct_move", {"symbol": "BTC/USDT", "pct": 5, "window": "1h"})
    assert feed(rule, [(0, 100.0), (600, 104.0), (1200, 98.5)]) == ["BTC/USDT down 5.29% in 1h"]


def test_a_move_slower_than_the_window_does_not_fire() -> None:
    rule = build_rule("pct_move", {"symbol": "BTC/USDT", "pct": 5, "window": "1d"})
    # up 10% over four days, steadily: at most 2.5% (and a slice) in any one day
    ticks = [(minute * 60.0, 100.0 * (1 + 0.10 * minute / (4 * 1440))) for minute in range(4 * 1440 + 1)]
    assert feed(rule, ticks) == []
    assert rule.samples() <= SLICES + 1


def test_the_window_is_measured_to_one_slice() -> None:
    # a 100 s window has slices of 1 s: a move over the window fires, one over the window and two
    # slices does not
    within = build_rule("pct_move", {"symbol": "BTC/USDT", "pct": 5, "window": "100s"})
    assert feed(within, [(0, 100.0), (100, 106.0)]) == ["BTC/USDT up 6.00% in 100s"]
    beyond = build_rule("pct_move", {"symbol": "BTC/USDT", "pct": 5, "window": "100s"})
    assert feed(beyond, [(0, 100.0), (102.5, 106.0)]) == []
