"""Toasts that never bury the dashboard: the feed's notices, coalesced.

A burst of notices (an accelerated market fills a dozen orders a second) would stack toasts over the
whole screen at 80x24. ``ToastBatcher`` lets the first notice of a quiet period through at once, then
collects whatever arrives within the next ``window_s`` seconds into one toast: the newest notice and how
many more there were (every one of them is in the event log, key 6), at the gravest severity among them.
So at most one toast appears per window, each shown for ``timeout_s``: a handful on screen at worst.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mastertrade.tui.state import Severity

RANK: dict[Severity, int] = {"debug": 0, "info": 1, "warning": 2, "error": 3, "critical": 4}


@dataclass
class ToastBatcher:
    window_s: float = 2.0
    timeout_s: float = 4.0
    pending: list[tuple[str, Severity]] = field(default_factory=list)
    open: bool = False
    """True while a window runs (notices are collected until ``flush``)."""

    def offer(self, text: str, severity: Severity) -> tuple[str, Severity] | None:
        """A notice: returns the toast to show now (the first of a quiet period), else None (collected;
        the caller flushes when the window ends)."""
        if not self.open:
            self.open = True
            return text, severity
        self.pending.append((text, severity))
        return None

    def flush(self) -> tuple[str, Severity] | None:
        """The window ended: one toast for what was collected (None if nothing was), and a new window
        starts only if something was shown."""
        pending, self.pending = self.pending, []
        if not pending:
            self.open = False
            return None
        text, _ = pending[-1]
        severity = max((item[1] for item in pending), key=RANK.__getitem__)
        if len(pending) > 1:
            text = f"{text}  (+{len(pending) - 1} more: event log, key 6)"
        return text, severity
