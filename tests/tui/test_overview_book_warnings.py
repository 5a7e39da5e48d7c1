"""The Overview counts the account's positions without exits at the exchange and its positions and
orders in a delisted market, the rows Orders & positions marks; before, a trader glancing at the Overview
could not tell that a position was unprotected or stuck."""

from __future__ import annotations

from mastertrade.tui.state import LiveState
from mastertrade.tui.widgets.overview import BookWarnings, book_warnings
from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import GONE, NO_EXITS, FakeBackend, UnsafeBookBackend, fake_position, frozen_clock

SHOWN = "⚠ 1 position without exits · 1 order in a delisted market — press 4"


async def test_the_overview_counts_unsafe_rows_only_while_there_are_any() -> None:
    backend = UnsafeBookBackend()
    backend.unsafe = False
    app = make_app(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, loaded(app))
        line = app.screen.query_one(BookWarnings)
        assert not line.display

        backend.unsafe = True  # the next answers carry the daemon's facts
        await app.feed.refresh("account")
        await wait_for(pilot, lambda: line.display)
        assert line.render().plain == SHOWN
        assert line.region.height == 1 and line.region.width == 80

        backend.unsafe = False  # the facts cleared: the line goes
        await app.feed.refresh("account")
        await wait_for(pilot, lambda: not line.display)


async def test_the_count_names_what_is_stuck_and_shortens_when_narrow() -> None:
    state = LiveState(frozen_clock)
    bare = fake_position("BTC/USDT", 0.1, 50_000.0, 51_000.0).model_copy(update={"unprotected": NO_EXITS})
    stuck = fake_position("ADA/USDT", 10.0, 0.5, 0.5).model_copy(update={"market_gone": GONE})
    order = (await FakeBackend().orders())[0]
    state.set_positions([bare, bare.model_copy(update={"symbol": "ETH/USDT"}), stuck])
    state.set_orders([order, *(order.model_copy(update={"id": i, "market_gone": GONE}) for i in (13, 14))])
    assert book_warnings(state) == [
        "⚠ 2 positions without exits · 1 position and 2 orders in a delisted market — press 4",
        "⚠ 2 positions without exits · 3 in a delisted market — press 4",
    ]
    state.set_orders([order])
    assert book_warnings(state) == [
        "⚠ 2 positions without exits · 1 position in a delisted market — press 4",
        "⚠ 2 positions without exits · 1 in a delisted market — press 4",
    ]
    state.set_positions([stuck.model_copy(update={"market_gone": None})])
    assert book_warnings(state) == []
