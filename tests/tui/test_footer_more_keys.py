"""The footer says when its keys do not all fit. Textual's footer scrolls them sideways and cuts the row
at the terminal's edge without a mark: at 80 columns the Strategies screen read "... n New order q "
(Quit gone), at 60 the Market screen lost its order and quit keys, and nothing said more were there. Now
"… ? more keys" stands at the right in place of the palette's key, and ? opens the Help screen listing
every key; where they all fit the footer is Textual's own, the palette's key at its right."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets._footer import FooterKey

from mastertrade.tui.app import MasterTradeApp
from mastertrade.tui.widgets.keys_footer import KeysFooter
from tests.tui.conftest import loaded, make_app, wait_for


def bottom_row(app: MasterTradeApp) -> str:
    """The terminal's last row as the trader sees it."""
    return app.screen._compositor.render_strips()[-1].text


def footer_keys(app: MasterTradeApp) -> list[str]:
    """The descriptions of the screen's keys in the footer (the mark and the palette's key aside)."""
    footer = app.screen.query_one(KeysFooter)
    return [
        key.description
        for key in footer.query(FooterKey)
        if not key.has_class("-more") and not key.has_class("-command-palette")
    ]


async def on_screen(pilot: Pilot[Any], key: str, mode: str) -> None:
    await pilot.press(key)
    await wait_for(pilot, lambda: getattr(pilot.app.screen, "MODE", None) == mode)
    await pilot.pause(0.05)  # the footer places its mark once the new keys are laid out


@pytest.mark.parametrize(("width", "key", "mode"), [(60, "2", "market"), (80, "3", "strategies")])
async def test_a_footer_too_narrow_for_its_keys_says_there_are_more(width: int, key: str, mode: str) -> None:
    app = make_app()
    async with app.run_test(size=(width, 24)) as pilot:
        await wait_for(pilot, loaded(app))
        await on_screen(pilot, key, mode)
        row = bottom_row(app)
        keys = footer_keys(app)
        assert not all(description in row for description in keys), row  # some key is cut ...
        assert row.rstrip().endswith("… ? more keys"), row  # ... and the row says so
        assert "Quit" in keys
        await pilot.press("question_mark")  # the key the mark names
        await wait_for(pilot, lambda: getattr(app.screen, "MODE", None) == "help")


async def test_the_help_screen_lists_every_key_the_footer_cut() -> None:
    from textual.widgets import DataTable

    app = make_app()
    async with app.run_test(size=(60, 24)) as pilot:
        await wait_for(pilot, loaded(app))
        await on_screen(pilot, "2", "market")
        cut = [d for d in footer_keys(app) if d not in bottom_row(app)]
        assert cut
        await pilot.click("MoreKeys")  # the mark itself leads there too
        await wait_for(pilot, lambda: getattr(app.screen, "MODE", None) == "help")
        table = app.screen.query_one("#keys", DataTable)
        listed = {str(table.get_row_at(i)[-1]) for i in range(table.row_count)}
        assert set(cut) <= listed, (cut, listed)


@pytest.mark.parametrize(("key", "mode"), [("1", "overview"), ("2", "market"), ("3", "strategies")])
async def test_keys_that_fit_show_no_mark_and_keep_the_palette_key(key: str, mode: str) -> None:
    app = make_app()
    async with app.run_test(size=(160, 24)) as pilot:
        await wait_for(pilot, loaded(app))
        await on_screen(pilot, key, mode)
        row = bottom_row(app)
        assert "more keys" not in row
        assert row.rstrip().endswith("^p palette"), row
        assert all(description in row for description in footer_keys(app)), row


async def test_the_mark_goes_when_the_terminal_is_widened() -> None:
    app = make_app()
    async with app.run_test(size=(60, 24)) as pilot:
        await wait_for(pilot, loaded(app))
        await on_screen(pilot, "2", "market")
        assert "more keys" in bottom_row(app)
        await pilot.resize_terminal(160, 24)
        await wait_for(pilot, lambda: "more keys" not in bottom_row(app))
        assert bottom_row(app).rstrip().endswith("^p palette")
