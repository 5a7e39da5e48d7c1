"""``KeysFooter``: Textual's footer, with a mark when its keys do not all fit.

Textual's ``Footer`` is a horizontally scrolled row: in a narrow terminal it cuts its last keys (or the
middle of one, "q " for "q Quit") and nothing says more are there; only its mouse wheel scrolls to them,
and only its command palette's "Keys" entry lists them. When the keys overflow, this footer docks
"… ? more keys" at its right in place of the palette's key: the mark says the row goes on, and "?" (or
a click on the mark) opens the Help screen, which lists every key of every screen, ctrl+p included
(the palette still opens with it). When they all fit, the mark is hidden and the footer is Textual's.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Footer

# FooterKey is the footer's own key widget (its look, and a click pressing its key); Textual exports only
# Footer, and pyproject holds textual below 9, where this module is.
from textual.widgets._footer import FooterKey

MORE = "… ? more keys"


class MoreKeys(FooterKey):
    """The mark of a footer whose keys overflow, docked at its right."""

    def __init__(self) -> None:
        super().__init__("question_mark", "?", "more keys", "app.switch_mode('help')", tooltip="Every key")

    def render(self) -> Text:
        mark = Text("… ", self.get_component_rich_style("footer-key--description"))
        return mark + super().render()


class KeysFooter(Footer):
    """A compact footer that marks keys it cannot show (see the module docstring)."""

    DEFAULT_CSS = """
    KeysFooter MoreKeys { dock: right; display: none; }
    KeysFooter.-overflow MoreKeys { display: block; }
    KeysFooter.-compact MoreKeys.-more { margin: 0; padding-right: 1; }
    KeysFooter.-overflow FooterKey.-command-palette { display: none; }
    """

    def __init__(self) -> None:
        super().__init__(compact=True)
        self._palette_width = 0

    def compose(self) -> ComposeResult:
        yield from super().compose()
        if self._bindings_ready:
            yield MoreKeys().add_class("-more")

    @property
    def overflows(self) -> bool:
        """Whether the keys are wider than the footer beside the palette's key."""
        for palette in self.query(".-command-palette"):
            if palette.display and palette.outer_size.width:
                self._palette_width = palette.outer_size.width
        needed = sum(
            child.outer_size.width + child.styles.margin.width
            for child in self.children
            if child.styles.dock == "none" and child.display
        )
        return needed > self.size.width - self._palette_width

    def sync_mark(self) -> None:
        self.set_class(self.overflows, "-overflow")

    def on_resize(self) -> None:
        self.call_after_refresh(self.sync_mark)

    def on_mount(self) -> None:
        super().on_mount()
        self.call_after_refresh(self.sync_mark)

    async def recompose(self) -> None:
        """Textual recomposes the footer when the screen's keys change (another screen, a modal)."""
        await super().recompose()
        self.call_after_refresh(self.sync_mark)
