"""The daemon's own log on the Alerts & log screen (``l`` cycles to it): its records as rows, each new
poll appending only the records not shown yet."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from textual.widgets import DataTable, TabbedContent

from mastertrade.engine.api.schemas_logs import LogRecord
from mastertrade.tui.screens.alerts import AlertsScreen
from mastertrade.tui.widgets.feed_table import FeedTable
from tests.tui.conftest import loaded, make_app, wait_for
from tests.tui.fakes import NOW, FakeBackend


def cells(table: DataTable[Any]) -> list[list[str]]:
    return [
        [str(getattr(cell, "plain", cell)) for cell in table.get_row_at(i)] for i in range(table.row_count)
    ]


class GrowingLog(FakeBackend):
    """A daemon whose log gains records between polls (the last ``limit`` are served)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[LogRecord] = []

    def write(self, minute: int, level: str, message: str) -> None:
        at = NOW + timedelta(minutes=minute)
        stamp = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self.records.append(
            LogRecord(time=stamp, level=level, logger="mastertrade.engine.x", message=message)
        )

    async def logs(self, *, limit: int = 100) -> list[LogRecord]:
        self._check()
        return self.records[-limit:]


async def test_l_cycles_to_the_daemon_log_and_polls_add_only_new_records() -> None:
    backend = GrowingLog()
    backend.write(0, "INFO", "daemon started")
    backend.write(1, "ERROR", "job failed\nTraceback (most recent call last):\nValueError: bad")
    app = make_app(backend)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, loaded(app))
        await pilot.press("6")
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        feed = screen.query_one("#daemon-feed", FeedTable)
        await pilot.press("l", "l")
        assert screen.query_one(TabbedContent).active == "daemon-tab"
        await wait_for(pilot, lambda: feed.row_count == 2)
        rows = cells(feed)
        assert [row[1:] for row in rows] == [
            ["info", "engine.x", "daemon started"],
            ["error", "engine.x", "job failed (+2 lines)"],
        ]
        assert rows[0][0] == "11-24 12:00:00"

        screen.fetch_daemon_log()
        await pilot.pause(0.05)
        assert feed.row_count == 2  # the same records are not added twice
        backend.write(2, "WARNING", "circuit breaker price_move tripped")
        backend.write(3, "INFO", "daemon started")  # the same text again is a new record
        screen.fetch_daemon_log()
        await wait_for(pilot, lambda: feed.row_count == 4)
        assert [row[3] for row in cells(feed)[2:]] == ["circuit breaker price_move tripped", "daemon started"]

        await pilot.press("v", "v")  # warning and up
        await wait_for(pilot, lambda: feed.row_count == 2)
        await pilot.press("l")
        assert screen.query_one(TabbedContent).active == "alerts-tab"
