"""The two lines every screen starts with: ``StatusBar`` (what is shown: account kind, connection,
screen, equity) and ``ConnectionBanner`` (what is wrong with the connection, only while it is).

The badges come from the daemon's status: SIMULATED when its venue is simulated, then PAPER or LIVE
from its trading mode. Before the first answer they read "?": the dashboard never guesses that it is
looking at paper money.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from mastertrade.tui import format as fmt
from mastertrade.tui.state import LiveState, live_state

DOTS = {"connected": "●", "connecting": "◌", "reconnecting": "◌", "offline": "○"}


def connection_text(state: LiveState) -> str:
    link = state.connection
    if link.state == "connected":
        return "connected"
    if link.state == "connecting":
        return "connecting"
    if link.state == "reconnecting":
        return f"reconnecting since {fmt.clock(link.since)}"
    return "offline"


class StatusBar(Widget):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text; }
    StatusBar > .status-bar--brand { text-style: bold; color: $primary; }
    StatusBar > .status-bar--simulated { background: $warning; color: $background; text-style: bold; }
    StatusBar > .status-bar--paper { background: $primary; color: $background; text-style: bold; }
    StatusBar > .status-bar--live { background: $error; color: $background; text-style: bold; }
    StatusBar > .status-bar--unknown { background: $surface; color: $text-muted; text-style: bold; }
    StatusBar > .status-bar--connected { color: $success; }
    StatusBar > .status-bar--problem { color: $error; text-style: bold; }
    StatusBar > .status-bar--halted { background: $error; color: $background; text-style: bold; }
    StatusBar > .status-bar--muted { color: $text-muted; }
    """
    COMPONENT_CLASSES = {
        "status-bar--brand",
        "status-bar--simulated",
        "status-bar--paper",
        "status-bar--live",
        "status-bar--unknown",
        "status-bar--connected",
        "status-bar--problem",
        "status-bar--halted",
        "status-bar--muted",
    }

    def __init__(self, screen_title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.screen_title = screen_title

    def render(self) -> Text:
        """Brand, badges, connection, screen title, and the equity at the right. Where they do not all
        fit, the screen title goes first (the screens bar shows it too), then the word "connected" beside
        its dot, so the equity stays; what else the connection is doing is never shortened."""
        state = live_state(self.app)
        width = self.size.width
        right = Text(no_wrap=True)
        balance = state.balance.value
        if balance is not None:
            right.append(f"equity {fmt.money(balance.equity)} {balance.quote} ")
        link = state.connection.state
        choices = [(True, True), (False, True)] + ([(False, False)] if link == "connected" else [])
        for title, words in choices:
            left = self._left(state, width, title=title, words=words)
            room = width - left.cell_len
            if right.cell_len and right.cell_len + 2 <= room:
                left.append(" " * (room - right.cell_len))
                left.append_text(right)
                return left
        left = self._left(state, width, title=True, words=True)
        left.truncate(width, overflow="ellipsis")
        return left

    def _left(self, state: LiveState, width: int, *, title: bool, words: bool) -> Text:
        style = self.get_component_rich_style
        left = Text(no_wrap=True, overflow="ellipsis")
        left.append(" MasterTrade " if width >= 100 else " MT ", style("status-bar--brand"))
        for label, kind in badges(state):
            left.append(f" {label} ", style(f"status-bar--{kind}"))
            left.append(" ")
        risk = state.risk.value
        if risk is not None and (risk.halted or any(breaker.tripped for breaker in risk.breakers)):
            # The kill switch or any tripped breaker stops new entries: trading is halted either way.
            left.append(" HALTED ", style("status-bar--halted"))
            left.append(" ")
        link = state.connection.state
        left.append(
            f"{DOTS[link]} {connection_text(state)}" if words else DOTS[link],
            style("status-bar--connected" if link == "connected" else "status-bar--problem"),
        )
        if title:
            left.append(f"  {self.screen_title}", style("status-bar--muted"))
        return left


def badges(state: LiveState) -> list[tuple[str, str]]:
    """(label, kind) of each badge: SIMULATED, then PAPER or LIVE; "?" while unknown."""
    if state.status.value is None:
        return [("?", "unknown")]
    found: list[tuple[str, str]] = []
    if state.simulated:
        found.append(("SIMULATED", "simulated"))
    found.append(("LIVE", "live") if state.mode == "live" else ("PAPER", "paper"))
    return found


class ConnectionBanner(Widget):
    """Shown only while the daemon is not connected: why, what the dashboard does about it, and how old
    the data on screen is."""

    DEFAULT_CSS = """
    ConnectionBanner { height: auto; background: $error 25%; color: $text; padding: 0 1; display: none; }
    ConnectionBanner.-shown { display: block; }
    """

    def render(self) -> Text:
        state = live_state(self.app)
        link = state.connection
        text = Text()
        if link.state == "connecting":
            text.append("Connecting to the daemon…")
            return text
        reason = link.reason or "the connection was lost"
        if link.state == "offline":
            text.append("The daemon is not answering: ", style="bold")
            text.append(f"{reason}. Retrying by itself.")
        else:
            text.append(f"Lost the daemon at {fmt.clock(link.since)}: ", style="bold")
            text.append(f"{reason}. Reconnecting by itself.")
        heard = state.data_at()
        if heard is not None:
            text.append(f" Figures below are from {fmt.clock(heard)} UTC and are NOT live.")
        return text

    def sync(self) -> None:
        self.set_class(not live_state(self.app).connected, "-shown")
        self.refresh(layout=True)
