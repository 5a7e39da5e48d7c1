"""With no strategy stored, the Strategies screen's "Selected" panel says there is nothing to show and
how strategies get there; at 160 columns it read "backtest / no data yet", as if one were selected."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from mastertrade.engine.api.schemas_strategies import StrategySummary
from mastertrade.tui.screens.strategies import StrategiesScreen
from mastertrade.tui.widgets.line_chart import LineChart
from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import FakeBackend


async def test_an_empty_store_says_how_strategies_get_there() -> None:
    backend = FakeBackend()

    async def strategies() -> list[StrategySummary]:
        return []

    backend.strategies = strategies  # type: ignore[method-assign]
    app = make_app(backend)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("3")
        screen = app.screen
        assert isinstance(screen, StrategiesScreen)
        await wait_for(pilot, lambda: screen.has_class("-preview"))
        text = screen.query_one("#preview-text", Static)
        await wait_for(pilot, lambda: "mt generate" in str(text.render()))
        shown = str(text.render())
        assert "no strategies stored" in shown and "mt strategy add" in shown, shown
        assert screen.query_one(DataTable).row_count == 0
        curve = screen.query_one("#preview-curve", LineChart)
        assert not curve.display or "no data yet" not in curve.render().plain
