"""A one-line summary that does not fit the terminal says so with an ellipsis. At 60 columns the
Orders screen read "cash 8,720.00  free 7,070.00  reserved 1,650.00  in" (the amount in positions
gone, nothing to say so), the Strategies pipeline lost its "failed", "paused" and "retired" counts
and the screens bar its last screens: Textual draws a Static's rich ``Text`` by its own wrapping
rules, so the ``overflow="ellipsis"`` the lines asked for was never applied."""

from __future__ import annotations

from typing import Any

from textual.geometry import Region
from textual.widget import Widget

from mastertrade.tui.screens.orders import OrdersScreen
from mastertrade.tui.screens.strategies import generation_line, pipeline_line
from mastertrade.tui.widgets.nav_bar import SCREENS, NavBar
from tests.tui.conftest import loaded, make_app, wait_for


def shown(widget: Widget) -> str:
    """The one line the widget draws, as on the terminal (padding included)."""
    width, height = widget.region.size  # ``size`` is the content's: without the padding
    strips = widget.render_lines(Region(0, 0, width, height))
    assert len(strips) == 1
    return strips[0].text


def assert_whole_or_marked(line: str, full: str) -> None:
    text = line.strip()
    if text.endswith("…"):
        assert full.strip().startswith(text[:-1].rstrip()), (line, full)
        assert len(text) < len(full.strip())
    else:
        assert text == full.strip(), f"cut without a mark: {line!r} of {full!r}"


async def on_screen(pilot: Any, key: str, mode: str) -> None:
    await pilot.press(key)
    await wait_for(pilot, lambda: getattr(pilot.app.screen, "MODE", None) == mode)


async def test_one_line_summaries_too_wide_for_the_terminal_end_in_an_ellipsis() -> None:
    app = make_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await wait_for(pilot, loaded(app))
        await on_screen(pilot, "4", "orders")
        screen = app.screen
        assert isinstance(screen, OrdersScreen)
        full = screen.cash_line(app.state).plain
        assert len(full) > 58  # the fake account's line is wider than the terminal
        line = shown(screen.query_one("#cash-line"))
        assert line.strip().endswith("…"), line
        assert_whole_or_marked(line, full)

        navbar = "".join(f" {key} {title} " for _, key, title in SCREENS)
        assert_whole_or_marked(shown(screen.query_one(NavBar)), navbar)

        await on_screen(pilot, "3", "strategies")
        pipeline = pipeline_line(app.state, app).plain
        assert "retired" in pipeline
        assert_whole_or_marked(shown(app.screen.query_one("#pipeline")), pipeline)
        generation = generation_line(app.state, app, 58).plain
        assert_whole_or_marked(shown(app.screen.query_one("#generation")), generation)


async def test_a_line_that_fits_is_shown_whole() -> None:
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, loaded(app))
        await on_screen(pilot, "4", "orders")
        screen = app.screen
        assert isinstance(screen, OrdersScreen)
        line = shown(screen.query_one("#cash-line"))
        assert line.strip() == screen.cash_line(app.state).plain.strip()
