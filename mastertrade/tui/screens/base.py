"""``DashboardScreen``: what every screen of the dashboard shares.

The frame: the status bar and the connection banner on top, the body, then the screens' keys and the
footer. The app posts a ``StateChanged`` message (per topic, coalesced) to the screens of the current
mode; each screen redraws the parts that show that topic in ``redraw``, and everything in ``redraw_all``
when it comes back into view (it was not updated while hidden). What the user asks of the app (a
chart, the order ticket, a strategy move ...) a screen posts as a message (``tui/messages.py``) that the
app handles: screens never import the app.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Container
from textual.screen import Screen

from mastertrade.tui.messages import StateChanged
from mastertrade.tui.state import LiveState, Topic, live_state
from mastertrade.tui.widgets.keys_footer import KeysFooter
from mastertrade.tui.widgets.nav_bar import NavBar
from mastertrade.tui.widgets.status_bar import ConnectionBanner, StatusBar

ALL_TOPICS: frozenset[Topic] = frozenset(
    (
        "connection",
        "status",
        "prices",
        "candles",
        "account",
        "risk",
        "goals",
        "alerts",
        "log",
        "jobs",
        "strategies",
    )
)
WIDE = 120  # columns from which screens lay their panels side by side
FRAME_TOPICS: frozenset[Topic] = frozenset(("connection", "status", "account", "risk"))


class DashboardScreen(Screen[None]):
    MODE: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""

    @property
    def state(self) -> LiveState:
        return live_state(self.app)

    def compose(self) -> ComposeResult:
        yield StatusBar(self.TITLE)
        yield ConnectionBanner()
        with Container(classes="body"):
            yield from self.compose_body()
        yield NavBar(self.MODE)
        yield KeysFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    # Textual calls the on_mount of every class along the MRO, the subclass's first: a screen's own
    # on_mount (adding table columns) runs before this one draws, and never calls it itself.
    def on_mount(self) -> None:
        self.set_class(self.app.size.width >= WIDE, "-wide")
        self.redraw_all()

    def on_resize(self) -> None:
        self.set_class(self.app.size.width >= WIDE, "-wide")

    def on_screen_resume(self) -> None:
        self.redraw_all()

    def redraw_all(self) -> None:
        self._redraw_frame(set(ALL_TOPICS))
        self.redraw(set(ALL_TOPICS))

    @on(StateChanged)
    def _state_changed(self, message: StateChanged) -> None:
        topics = {message.topic}
        self._redraw_frame(topics)
        self.redraw(topics)

    def _redraw_frame(self, topics: set[Topic]) -> None:
        if topics & FRAME_TOPICS:
            self.query_one(StatusBar).refresh()
            self.set_class(not self.state.connected, "-offline")
        if "connection" in topics:
            self.query_one(ConnectionBanner).sync()

    def redraw(self, topics: set[Topic]) -> None:
        """Redraw what shows these topics (all of them after a resume)."""
