"""``StatePanel``: a widget drawn from the live state as text, laid out for its current width.

Subclasses implement ``draw(state, width)``; ``refresh()`` redraws after the state changed. No child
widgets are created per update, so a panel costs the same after a day as after a minute.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from mastertrade.tui.state import LiveState, live_state


class StatePanel(Widget):
    DEFAULT_CSS = """
    StatePanel { height: auto; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def render(self) -> Text:
        return self.draw(live_state(self.app), max(1, self.size.width))

    def draw(self, state: LiveState, width: int) -> Text:
        """The panel's text for ``state`` at ``width`` columns. Every subclass implements it (Textual's
        widget metaclass does not combine with ``abc.ABCMeta``, so this is checked when drawing)."""
        raise NotImplementedError(f"{type(self).__name__} must implement draw(state, width)")
