"""Toasts are coalesced: the first notice of a quiet period shows at once, a burst within the window
becomes one toast (the newest, how many more, the gravest severity), and a quiet window ends the batch."""

from __future__ import annotations

from mastertrade.tui.toasts import ToastBatcher


def test_a_burst_becomes_one_toast_per_window() -> None:
    toasts = ToastBatcher(window_s=2.0)
    assert toasts.offer("fill 1", "info") == ("fill 1", "info")
    for n in range(2, 12):
        assert toasts.offer(f"fill {n}", "warning" if n == 5 else "info") is None
    assert toasts.flush() == ("fill 11  (+9 more: event log, key 6)", "warning")
    assert toasts.offer("fill 12", "info") is None  # the window after a toast still collects
    assert toasts.flush() == ("fill 12", "info")
    assert toasts.flush() is None and not toasts.open  # a quiet window: the next notice shows at once
    assert toasts.offer("halted", "error") == ("halted", "error")


async def test_a_toast_sits_above_the_screens_bar() -> None:
    # It covered the right of the screens bar ("6 Al▌"), one row above the keys line.
    from textual.widgets._toast import Toast

    from mastertrade.tui.widgets.nav_bar import NavBar
    from tests.tui.conftest import loaded, make_app, wait_for

    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_for(pilot, loaded(app))
        app.notify(
            "[account] buy 0.00145865 BTC-EDGE/USDT filled at 91,205.14  (+7 more: event log, key 6)",
            markup=False,
        )
        await wait_for(pilot, lambda: bool(app.screen.query(Toast)))
        await pilot.pause()
        bar = app.screen.query_one(NavBar).region
        for toast in app.screen.query(Toast):
            assert toast.region.height > 0 and toast.region.bottom <= bar.y, (toast.region, bar)
