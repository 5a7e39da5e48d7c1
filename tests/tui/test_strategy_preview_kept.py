"""The Strategies screen's preview keeps what it showed when the daemon goes away. A row that changed
just before the daemon stopped (its paper return moved) made the preview ask again; the question found
no daemon and the strategy's rules, figures and curve gave way to "the daemon is not running", while
every other figure on screen stayed, marked not live."""

from __future__ import annotations

from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import FakeBackend
from tests.tui.test_app import plain
from tests.tui.test_strategy_backtest import preview_of


async def test_the_preview_stays_and_says_it_was_not_refreshed() -> None:
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, loaded(app))
        screen, preview = await preview_of(pilot, app, "g-5d11")
        await wait_for(pilot, lambda: "g-5d11 · " in plain(preview))
        curve = screen.query_one("#preview-curve")
        assert curve.values  # type: ignore[attr-defined]

        await backend.change_strategy("g-5d11", "pause")
        await app.feed.refresh("strategies")  # the row changed: the preview asks again ...
        backend.go_down()  # ... and finds no daemon
        await wait_for(pilot, lambda: "not refreshed" in plain(preview))
        shown = plain(preview)
        assert "g-5d11 · " in shown and "the daemon is not running" in shown
        assert curve.values  # type: ignore[attr-defined]

        # another strategy's preview cannot be shown without the daemon: it says why
        screen, preview = await preview_of(pilot, app, "g-7f3a")
        await wait_for(pilot, lambda: "g-7f3a" not in plain(preview) and "not running" in plain(preview))

        backend.come_back()
        await wait_for(pilot, lambda: app.state.connected)
        screen, preview = await preview_of(pilot, app, "g-5d11")
        await wait_for(pilot, lambda: "g-5d11 · paused" in plain(preview))
        assert "not refreshed" not in plain(preview)
