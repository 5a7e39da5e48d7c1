"""The status bar keeps the account's equity in a narrow terminal: at 60 columns it was dropped from
every screen without a mark, for the screen's title (which the screens bar shows too). The title goes
first, then the word "connected" beside its dot; what the connection is doing otherwise is never shortened."""

from __future__ import annotations

import pytest

from mastertrade.tui.widgets.status_bar import StatusBar
from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import FakeBackend


@pytest.mark.parametrize("width", [60, 80, 160])
async def test_the_equity_stays_in_the_status_bar_however_narrow(width: int) -> None:
    app = make_app()
    async with app.run_test(size=(width, 20)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("4")
        await wait_for(pilot, lambda: getattr(app.screen, "MODE", "") == "orders")
        balance = app.state.balance.value
        assert balance is not None
        bar = app.screen.query_one(StatusBar)
        shown = bar.render().plain
        assert len(shown) <= width
        assert shown.rstrip().endswith(f"equity {balance.equity:,.2f} {balance.quote}"), shown
        for badge in ("SIMULATED", "PAPER", "HALTED", "●"):
            assert badge in shown
        if width >= 100:
            assert "connected  Orders & positions" in shown


async def test_a_lost_connection_keeps_its_words_before_the_equity() -> None:
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(60, 20)) as pilot:
        await wait_for(pilot, loaded(app))
        backend.go_down()
        await wait_for(pilot, lambda: app.state.connection.state == "reconnecting")
        await pilot.pause()
        shown = app.screen.query_one(StatusBar).render().plain
        assert "reconnecting since" in shown, shown
