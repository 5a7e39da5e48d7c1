"""A dashboard whose daemon has never answered claims nothing about what the daemon holds: no "no open
positions", "none stored" or "watches no symbols" before it was asked; once it answers, an empty
workspace says so."""

from __future__ import annotations

from mastertrade import errors
from mastertrade.engine.api.schemas import AlertInfo
from mastertrade.tui.screens.market import MarketScreen
from mastertrade.tui.screens.orders import OrdersScreen
from mastertrade.tui.screens.strategies import StrategiesScreen
from mastertrade.tui.widgets.candle_chart import CandleChart
from mastertrade.tui.widgets.overview import LatestAlerts
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


async def test_latest_alerts_are_not_called_none_before_they_were_read() -> None:
    # The Overview said "no alerts" while the daemon had never answered, and when reading the alert
    # history failed: an empty list it had never been given.
    backend = FakeBackend(up=False)
    app = make_app(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.state.connection.state == "offline")
        panel = app.screen.query_one(LatestAlerts)
        assert panel.render().plain == "no alerts read yet"

        async def refused(*, limit: int = 50) -> list[AlertInfo]:
            raise errors.OperationFailed("the alerts store is locked")

        served = backend.alert_history
        backend.alert_history = refused  # type: ignore[method-assign]
        backend.come_back()
        await wait_for(pilot, lambda: app.state.connected and app.state.risk.value is not None)
        await wait_for(pilot, lambda: app.state.alert_history.error is not None)
        shown, full = panel.render().plain, "alerts not read: the alerts store is locked"
        assert shown == full or (shown.endswith("…") and full.startswith(shown[:-1])), shown

        async def none(*, limit: int = 50) -> list[AlertInfo]:
            await served(limit=limit)
            return []

        backend.alert_history = none  # type: ignore[method-assign]
        await app.feed.refresh("alerts")
        await wait_for(pilot, lambda: panel.render().plain == "no alerts")
