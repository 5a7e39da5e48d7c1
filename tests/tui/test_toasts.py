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
