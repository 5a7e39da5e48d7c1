"""The Strategies screen keeps every column of its table in sight: the preview sits beside the table only
where the table, at the width of its columns, leaves it room; at 120 columns the table scrolled its last
columns (Paper, Max DD, DSR, Trades) out of sight behind a preview."""

from __future__ import annotations

import pytest
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from mastertrade.engine.api.schemas_strategies import StrategySummary
from mastertrade.tui.screens.strategies import PREVIEW_MIN_WIDTH, StrategiesScreen
from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import FakeBackend


@pytest.mark.parametrize(("width", "preview"), [(80, False), (120, False), (160, True), (200, True)])
async def test_every_column_is_in_sight_and_the_preview_only_where_it_fits(width: int, preview: bool) -> None:
    app = make_app()
    async with app.run_test(size=(width, 40)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("3")
        screen = app.screen
        assert isinstance(screen, StrategiesScreen)
        table = screen.query_one("#strategies", DataTable)
        await wait_for(pilot, lambda: table.row_count > 0)
        await pilot.pause()
        await wait_for(pilot, lambda: screen.has_class("-preview") == preview)
        if width >= 120:  # at 80 the columns cannot all fit: the table scrolls, with no preview beside it
            assert table.max_scroll_x == 0, f"{table.virtual_size.width} columns in {table.size.width}"
        shown = screen.query_one("#strategy-preview")
        assert shown.display == preview
        if preview:
            assert shown.size.width >= PREVIEW_MIN_WIDTH - 2  # its content, inside the border
            assert table.region.right <= shown.region.x


@pytest.mark.parametrize("width", [120, 160])
async def test_a_long_name_is_shortened_with_a_mark_and_keeps_every_column_in_sight(width: int) -> None:
    # A strategy stored as "my_extremely_long_strategy_name_..." widened the Name column past the
    # panel: Stage, Market, Sharpe ... scrolled out of sight, and the name was cut at the panel's edge.
    long_name = "my_extremely_long_strategy_name_for_the_btc_market_v2_final_really_final"
    backend = FakeBackend()
    served = backend.strategies

    async def strategies() -> list[StrategySummary]:
        rows = await served()
        return [rows[0].model_copy(update={"name": long_name}), *rows[1:]]

    backend.strategies = strategies  # type: ignore[method-assign]
    app = make_app(backend)
    async with app.run_test(size=(width, 40)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("3")
        screen = app.screen
        assert isinstance(screen, StrategiesScreen)
        table = screen.query_one("#strategies", DataTable)
        await wait_for(pilot, lambda: table.row_count > 0)
        await pilot.pause()
        name = table.get_cell_at(Coordinate(0, 0)).plain
        assert name.endswith("…") and long_name.startswith(name[:-1]), name
        await wait_for(pilot, lambda: table.max_scroll_x == 0)
        assert table.max_scroll_x == 0, f"{table.virtual_size.width} columns in {table.size.width}"
