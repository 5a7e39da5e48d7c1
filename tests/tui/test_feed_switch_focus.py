"""``l`` on the Alerts & log screen moves to the next feed and lets the keys reach it. The switch left
nothing focused: the arrow keys, page up and page down scrolled no feed until the trader clicked one."""

from __future__ import annotations

from mastertrade.tui.screens.alerts import AlertsScreen
from mastertrade.tui.widgets.feed_table import FeedTable
from tests.tui.conftest import loaded, make_app, wait_for


async def test_the_feed_switched_to_has_the_keys() -> None:
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("6")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen))
        assert isinstance(app.focused, FeedTable) and app.focused.id == "alerts-feed"
        for feed in ("log-feed", "daemon-feed", "alerts-feed"):
            await pilot.press("l")
            await wait_for(pilot, lambda feed=feed: getattr(app.focused, "id", None) == feed)  # type: ignore[misc]
            assert isinstance(app.focused, FeedTable)
