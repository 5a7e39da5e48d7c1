"""Theme colours for text built in code (table cells, feed lines), taken from the running theme so
they follow it like the stylesheet does."""

from __future__ import annotations

from rich.color import Color, ColorParseError
from rich.style import Style
from textual.app import App

# Variables whose values are relative ("auto 60%") have a plain-colour equivalent for rich styles.
_PLAIN = {"text": "foreground", "text-muted": "foreground-darken-3"}

SEVERITY_TONES = {
    "debug": "text-muted",
    "info": "text",
    "warning": "text-warning",
    "error": "text-error",
    "critical": "text-error",
}


def tone(app: App[object], name: str, *, bold: bool = False, dim: bool = False) -> Style:
    """A style in the theme's colour ``name`` ("text-success", "text-error", "text-muted", ...)."""
    value = app.theme_variables.get(_PLAIN.get(name, name), "")
    try:
        color: Color | None = Color.parse(value[:7]) if value else None
    except ColorParseError:
        color = None
    return Style(color=color, bold=bold, dim=dim)


def signed_tone(app: App[object], value: float | None, *, bold: bool = False) -> Style:
    """Green for a gain, red for a loss, plain for nothing."""
    if value is None or value == 0:
        return tone(app, "text", bold=bold)
    return tone(app, "text-success" if value > 0 else "text-error", bold=bold)
