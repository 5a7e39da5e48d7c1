"""The Strategies screen keeps every column of its table in sight: the preview sits beside the table only
where the table, at the width of its columns, leaves it room; at 120 columns the table scrolled its last
columns (Paper, Max DD, DSR, Trades) out of sight behind a preview."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from mastertrade.tui.screens.strategies import PREVIEW_MIN_WIDTH, StrategiesScreen
from tests.tui.conftest import loaded, make_app, wait_for


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
