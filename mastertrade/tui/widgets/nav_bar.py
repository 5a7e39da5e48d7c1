"""``NavBar``: the screens and their keys, the current one highlighted (click one to go there)."""

from __future__ import annotations

from textual.widgets import Static

# (mode, key shown, title) in the order of the number keys
SCREENS: tuple[tuple[str, str, str], ...] = (
    ("overview", "1", "Overview"),
    ("market", "2", "Market"),
    ("strategies", "3", "Strategies"),
    ("orders", "4", "Orders"),
    ("risk", "5", "Risk"),
    ("alerts", "6", "Alerts & log"),
    ("help", "?", "Help"),
)


class NavBar(Static):
    DEFAULT_CSS = """
    NavBar { height: 1; background: $panel; color: $text-muted; link-style: none; link-color: $text;
             text-wrap: nowrap; text-overflow: ellipsis;
             link-style-hover: bold; link-background-hover: $primary 40%; }
    """

    def __init__(self, current: str) -> None:
        super().__init__(self._markup(current))

    @staticmethod
    def _markup(current: str) -> str:
        parts = []
        for mode, key, title in SCREENS:
            if mode == current:
                parts.append(f"[reverse $accent] {key} {title} [/]")
            else:
                parts.append(f"[@click=app.switch_mode('{mode}')] [b $accent]{key}[/] {title} [/]")
        return "".join(parts)
