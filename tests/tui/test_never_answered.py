"""A dashboard whose daemon has never answered claims nothing about what the daemon holds: no "no open
positions", "none stored" or "watches no symbols" before it was asked; once it answers, an empty
workspace says so."""

from __future__ import annotations

from mastertrade.tui.screens.market import MarketScreen
from mastertrade.tui.screens.orders import OrdersScreen
from mastertrade.tui.screens.strategies import StrategiesScreen
from mastertrade.tui.widgets.candle_chart import CandleChart
from tests.tui.conftest import make_app, wait_for
from tests.tui.fakes import FakeBackend


async def test_screens_do_not_call_the_workspace_empty_before_the_daemon_answers() -> None:
    backend = FakeBackend(up=False, symbols=())
    app = make_app(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.state.connection.state == "offline")
        await pilot.press("2")
        await wait_for(pilot, lambda: isinstance(app.screen, MarketScreen))
        chart = app.screen.query_one(CandleChart)
        await wait_for(pilot, lambda: chart.note != "")
        assert chart.note == "waiting for the daemon"
        await pilot.press("3")
        await wait_for(pilot, lambda: isinstance(app.screen, StrategiesScreen))
        assert app.screen.query_one("#strategies-panel").border_subtitle == "not listed yet"
        await pilot.press("4")
        await wait_for(pilot, lambda: isinstance(app.screen, OrdersScreen))
        assert app.screen.query_one("#positions-panel").border_subtitle == "not read yet"

        backend.come_back()  # a workspace that watches no symbols
        await wait_for(pilot, lambda: app.state.connected and app.state.positions.value is not None)
        positions = app.state.positions.value or []
        subtitle = app.screen.query_one("#positions-panel").border_subtitle
        assert subtitle == ("" if positions else "no open positions")
        await pilot.press("2")
        await wait_for(pilot, lambda: chart.note == "the daemon watches no symbols")
