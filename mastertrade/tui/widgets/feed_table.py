"""``FeedTable``: a filterable, bounded feed (alerts, or the event log) as a table, newest at the bottom.

New items are appended as rows (the oldest rows go once there are ``MAX_ROWS``); changing the filter
rebuilds the rows from the state's bounded deque. The view follows the newest row unless the user
moved the cursor up to read.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from rich.text import Text
from textual.widgets import DataTable

from mastertrade.tui.state import SEVERITIES, FeedItem, Severity
from mastertrade.tui.widgets.theme import SEVERITY_TONES, tone
from mastertrade.utc import from_s

MAX_ROWS = 500


class FeedTable(DataTable[Text]):
    DEFAULT_CSS = """
    FeedTable { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self.text_filter = ""
        self.min_severity: Severity = "debug"
        self._seen = 0  # how many items of the feed this table has considered
        self._next_key = 0
        self._keys: deque[str] = deque()

    def on_mount(self) -> None:
        self.add_column("Time", key="time")
        self.add_column("Level", key="level")
        self.add_column("Source", key="source")
        self.add_column("Message", key="text")

    def matches(self, item: FeedItem) -> bool:
        if SEVERITIES.index(item.severity) < SEVERITIES.index(self.min_severity):
            return False
        needle = self.text_filter.lower()
        return not needle or needle in item.text.lower() or needle in item.source.lower()

    def set_filter(self, text: str, min_severity: Severity, items: Iterable[FeedItem], count: int) -> None:
        self.text_filter = text
        self.min_severity = min_severity
        self.clear()
        self._keys.clear()
        self._seen = count
        self._append([item for item in items if self.matches(item)])

    def sync(self, items: deque[FeedItem], count: int) -> None:
        """Add what arrived since the last call (``count`` is the feed's running total)."""
        new = min(count - self._seen, len(items))
        self._seen = count
        if new <= 0:
            return
        fresh = list(items)[-new:]
        self._append([item for item in fresh if self.matches(item)])

    def _append(self, items: list[FeedItem]) -> None:
        if not items:
            return
        following = self.row_count == 0 or self.cursor_row >= self.row_count - 1
        app = self.app
        for item in items[-MAX_ROWS:]:
            key = str(self._next_key)
            self._next_key += 1
            when = from_s(item.at).strftime("%m-%d %H:%M:%S")
            self.add_row(
                Text(when, tone(app, "text-muted")),
                Text(item.severity, tone(app, SEVERITY_TONES[item.severity], bold=item.severity != "info")),
                Text(item.source, tone(app, "text-muted")),
                Text(item.text),
                key=key,
            )
            self._keys.append(key)
        while len(self._keys) > MAX_ROWS:
            self.remove_row(self._keys.popleft())
        if following:
            self.move_cursor(row=self.row_count - 1, animate=False)
