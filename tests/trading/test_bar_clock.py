"""The bar clock alone (fakes, no database): however late its closed-bar events arrive, a strategy's
book sees every stored bar after its cursor exactly once and in order, decides on each bar's own signal
and never on a later bar's data; a repeated or old event does nothing."""

from __future__ import annotations

from typing import Any

from mastertrade.engine.execution.bar_clock import BarClock, BookCursor
from tests.trading.test_trader_decisions import BTC, HOUR, T0, FakeBook, FakeSeries, up_down


class FakeBooks:
    def __init__(self, cursor: BookCursor | None) -> None:
        self.cursor = cursor
        self.books: dict[str, FakeBook] = {}
        self.marks: list[int] = []

    async def strategy_book(self, strategy_id: str, ts: int = 0) -> FakeBook:
        return self.books.setdefault(strategy_id, FakeBook())

    async def book_cursor(self, strategy_id: str) -> BookCursor | None:
        return self.cursor

    async def mark_book(self, broker: Any, ts: int) -> None:
        self.marks.append(ts)


# bar i: (open, close); up bars enter, down bars exit (``up_down``)
CLOSES = [(100.0, 99.0), (99.0, 98.0), (98.0, 101.0), (101.0, 102.0), (102.0, 100.0), (100.0, 103.0)]


async def test_a_late_event_catches_up_every_bar_in_order_once() -> None:
    books = FakeBooks(BookCursor(start=T0, cursor=T0 + HOUR))
    clock = BarClock(FakeSeries(CLOSES), books, "fake")
    strategy = up_down("paper")
    # the events of bars 2..4 were missed: the close of bar 4 evaluates 2, 3 and 4, in order
    assert await clock.catch_up([strategy], BTC, "1h", T0 + 4 * HOUR) == 3
    book = books.books["s1"]
    assert book.bars == [T0 + 2 * HOUR, T0 + 3 * HOUR, T0 + 4 * HOUR]
    assert books.marks == book.bars
    # each decision is that bar's own signal: bars 2 and 3 are up (an entry each: the fake book never
    # fills, so it stays flat), bar 4 is down (an exit, nothing to sell while flat)
    assert [request.side.value for request in book.submitted] == ["buy", "buy"]
    # the same event again, or an older one, evaluates nothing
    assert await clock.catch_up([strategy], BTC, "1h", T0 + 4 * HOUR) == 0
    assert await clock.catch_up([strategy], BTC, "1h", T0 + 3 * HOUR) == 0
    assert await clock.catch_up([strategy], BTC, "1h", T0 + 5 * HOUR) == 1
    assert book.bars[-1] == T0 + 5 * HOUR and len(book.bars) == 4
    assert clock.evaluated == 4


async def test_a_new_strategy_opens_its_book_on_the_bar_it_first_sees() -> None:
    books = FakeBooks(None)
    clock = BarClock(FakeSeries(CLOSES), books, "fake")
    assert await clock.catch_up([up_down("paper")], BTC, "1h", T0 + 2 * HOUR) == 1
    book = books.books["s1"]
    assert book.bars == [T0 + 2 * HOUR] and book.submitted == []  # bar 0 of its backtest: opens only
    assert (await clock.cursor("s1")) == BookCursor(T0 + 2 * HOUR, T0 + 2 * HOUR)
