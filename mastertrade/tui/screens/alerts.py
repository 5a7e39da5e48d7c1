"""Alerts & log (key 6): the alerts the daemon raised, the log of everything that happened (orders,
fills, signals, jobs, services, risk, the dashboard's own connection) and the daemon's own log file,
each filterable by text (``/``) and by least severity (``v``). ``l`` switches between the feeds.

The daemon's log is polled (``GET /v1/logs``) every ``DAEMON_LOG_POLL_S`` while this screen shows;
each answer's records after the newest one already shown are appended."""

from __future__ import annotations

from collections import deque

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Select, TabbedContent, TabPane

from mastertrade import errors
from mastertrade.engine.api.schemas_logs import LogRecord
from mastertrade.tui.backend import backend_of
from mastertrade.tui.screens.base import DashboardScreen
from mastertrade.tui.state import MAX_LOG, SEVERITIES, FeedItem, Severity, Topic
from mastertrade.tui.widgets.feed_table import FeedTable
from mastertrade.utc import parse_iso

DAEMON_LOG_POLL_S = 5.0
DAEMON_LOG_RECORDS = 200
FEEDS = ("alerts-tab", "log-tab", "daemon-tab")


def log_item(record: LogRecord) -> FeedItem:
    """A daemon log record as a feed row: its first line, and how many (traceback) lines follow."""
    try:
        at = parse_iso(record.time).timestamp()
    except ValueError:
        at = 0.0
    level = record.level.lower()
    severity: Severity = next((item for item in SEVERITIES if item == level), "info")
    first, *rest = record.message.split("\n")
    text = first + (f" (+{len(rest)} lines)" if rest else "")
    return FeedItem(at, severity, record.logger.removeprefix("mastertrade."), text)


def record_key(record: LogRecord) -> tuple[str, str, str, str]:
    return (record.time, record.level, record.logger, record.message)


class AlertsScreen(DashboardScreen):
    MODE = "alerts"
    TITLE = "Alerts & log"
    AUTO_FOCUS = "#alerts-feed"
    BINDINGS = [
        Binding("slash", "focus_filter", "Filter"),
        Binding("v", "severity", "Severity"),
        Binding("l", "switch_feed", "Alerts/log"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="feed-filters"):
            yield Input(placeholder="/ filter by text", id="feed-filter", compact=True)
            yield Select(
                [(f"{name} and up", name) for name in SEVERITIES[1:]],
                prompt="all levels",
                id="feed-severity",
                compact=True,
            )
        with TabbedContent(id="feeds"):
            with TabPane("Alerts", id="alerts-tab"):
                yield FeedTable(id="alerts-feed")
            with TabPane("Event log", id="log-tab"):
                yield FeedTable(id="log-feed")
            with TabPane("Daemon log", id="daemon-tab"):
                yield FeedTable(id="daemon-feed")

    def __init__(self) -> None:
        super().__init__()
        self.daemon_log: deque[FeedItem] = deque(maxlen=MAX_LOG)
        self.daemon_log_count = 0  # records ever added, so the table can tell the new ones
        self.last_record: tuple[str, str, str, str] | None = None

    def on_mount(self) -> None:
        self.apply_filter()
        self.set_interval(DAEMON_LOG_POLL_S, self._poll_daemon_log)
        self.fetch_daemon_log()

    def on_screen_resume(self) -> None:
        self.fetch_daemon_log()

    def _poll_daemon_log(self) -> None:
        if self.is_current:
            self.fetch_daemon_log()

    @work(exclusive=True, group="daemon-log")
    async def fetch_daemon_log(self) -> None:
        try:
            records = await backend_of(self.app).logs(limit=DAEMON_LOG_RECORDS)
        except errors.MasterTradeError:
            return  # the daemon is away: the banner says so, and the next poll tries again
        keys = [record_key(record) for record in records]
        start = 0
        if self.last_record in keys:
            start = len(keys) - keys[::-1].index(self.last_record)
        if keys:
            self.last_record = keys[-1]
        self._add_daemon_log([log_item(record) for record in records[start:]])

    def _add_daemon_log(self, items: list[FeedItem]) -> None:
        if not items:
            return
        self.daemon_log.extend(items)
        self.daemon_log_count += len(items)
        self.query_one("#daemon-feed", FeedTable).sync(self.daemon_log, self.daemon_log_count)

    def severity(self) -> Severity:
        value = self.query_one("#feed-severity", Select).value
        return next((level for level in SEVERITIES if level == value), "debug")

    def apply_filter(self) -> None:
        state = self.state
        text = self.query_one("#feed-filter", Input).value.strip()
        self.query_one("#alerts-feed", FeedTable).set_filter(
            text, self.severity(), state.alerts, state.alert_count
        )
        self.query_one("#log-feed", FeedTable).set_filter(text, self.severity(), state.log, state.log_count)
        self.query_one("#daemon-feed", FeedTable).set_filter(
            text, self.severity(), self.daemon_log, self.daemon_log_count
        )

    def redraw(self, topics: set[Topic]) -> None:
        state = self.state
        if "alerts" in topics:
            self.query_one("#alerts-feed", FeedTable).sync(state.alerts, state.alert_count)
        if "log" in topics:
            self.query_one("#log-feed", FeedTable).sync(state.log, state.log_count)

    @on(Input.Changed, "#feed-filter")
    @on(Select.Changed, "#feed-severity")
    def _filter_changed(self) -> None:
        self.apply_filter()

    def action_focus_filter(self) -> None:
        self.query_one("#feed-filter", Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#feed-filter", Input).value = ""
        pane = self.query_one(TabbedContent).active_pane
        if pane is not None:
            pane.query_one(FeedTable).focus()

    def action_severity(self) -> None:
        select = self.query_one("#feed-severity", Select)
        levels = list(SEVERITIES[1:])
        current = select.value
        following = (
            levels[(levels.index(current) + 1)] if current in levels and current != levels[-1] else None
        )
        if following is None and current not in levels:
            following = levels[0]
        select.value = following if following is not None else Select.NULL

    def action_switch_feed(self) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.active = FEEDS[(FEEDS.index(tabs.active) + 1) % len(FEEDS)] if tabs.active in FEEDS else FEEDS[0]
        # The focused feed was hidden with its pane: the one now shown takes the keys (arrows, pages).
        tabs.get_pane(tabs.active).query_one(FeedTable).focus()
