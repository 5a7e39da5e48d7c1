"""Help (``?`` or F1): every key of the dashboard, read from the bindings themselves so it never drifts
from what the keys do, and what the badges and colours mean."""

from __future__ import annotations

from collections.abc import Iterator

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.widgets import DataTable, Static

from mastertrade.tui.screens.base import DashboardScreen
from mastertrade.tui.state import STALE_AFTER_S, Topic
from mastertrade.tui.widgets.theme import tone

LEGEND = (
    "SIMULATED: prices come from the simulated venue.  PAPER / LIVE: the daemon's trading mode "
    "(LIVE is real money).  A price in amber marked 'stale' had no tick for "
    f"{STALE_AFTER_S:.0f} s; while the daemon is away every figure is stale and a red banner says since when."
)


def bindings_of(node_class: type[DOMNode]) -> list[Binding]:
    """The bindings a class declares, its bases' first (as Textual merges them), later keys winning."""
    found: dict[str, Binding] = {}
    for cls in reversed(node_class.__mro__):
        declared: list[BindingType] = cls.__dict__.get("BINDINGS", [])
        for item in declared:
            binding = item if isinstance(item, Binding) else Binding(*item)
            for key in binding.key.split(","):
                found[key.strip()] = binding
    return list(found.values())


def sections(app: App[object]) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """(where, [(keys, what)]) for the app and every screen it can show."""
    from mastertrade.tui.screens.confirm import ConfirmScreen, QuitDemoScreen
    from mastertrade.tui.screens.order_ticket import OrderTicket
    from mastertrade.tui.screens.strategy_detail import StrategyDetailScreen

    everywhere = [
        (keys_of(app, b), what_of(b))
        for b in _unique(bindings_of(type(app)))
        if b.description or not b.system  # Textual's ctrl+c only says how to quit: not a key of ours
    ]
    everywhere.append((keys_of(app, Binding(app.COMMAND_PALETTE_BINDING, "")), "Command palette"))
    yield "Everywhere", everywhere
    screens: list[tuple[str, type[DOMNode]]] = [
        (getattr(screen, "TITLE", mode), screen)
        for mode, screen in type(app).MODES.items()
        if isinstance(screen, type)
    ]
    screens += [
        ("Strategy detail", StrategyDetailScreen),
        ("Order ticket", OrderTicket),
        ("Confirmation", ConfirmScreen),
        ("Leaving the demo", QuitDemoScreen),
    ]
    for title, screen in screens:
        own = [b for b in _unique(bindings_of(screen)) if not _inherited_from_textual(screen, b)]
        if own:
            yield title, [(keys_of(app, b), what_of(b)) for b in own]


def keys_of(app: App[object], binding: Binding) -> str:
    """Every key of a binding as the footer shows it ("? / f1")."""
    keys = [key.strip() for key in binding.key.split(",")]
    return " / ".join(app.get_key_display(Binding(key, binding.action)) for key in keys)


def what_of(binding: Binding) -> str:
    if binding.description:
        return binding.description
    return binding.action.removeprefix("app.").replace("_", " ")


def _unique(bindings: list[Binding]) -> list[Binding]:
    seen: set[int] = set()
    out = []
    for binding in bindings:
        if id(binding) not in seen:
            seen.add(id(binding))
            out.append(binding)
    return out


def _inherited_from_textual(screen: type[DOMNode], binding: Binding) -> bool:
    """Textual's own screen bindings (focus cycling, ...) are the same on every screen: not repeated."""
    for cls in screen.__mro__:
        if binding in cls.__dict__.get("BINDINGS", []):
            return not cls.__module__.startswith("mastertrade.")
    return False


class HelpScreen(DashboardScreen):
    MODE = "help"
    TITLE = "Help"

    def compose_body(self) -> ComposeResult:
        yield Static(id="legend")
        yield DataTable[Text](id="keys", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#legend", Static).update(Text(LEGEND, tone(self.app, "text-muted")))
        table = self.query_one("#keys", DataTable)
        table.add_columns("Where", "Key", "Does")
        for where, keys in sections(self.app):
            for index, (key, what) in enumerate(keys):
                table.add_row(
                    Text(where if index == 0 else "", tone(self.app, "text-accent", bold=True)),
                    Text(key, tone(self.app, "text", bold=True)),
                    Text(what),
                )

    def redraw(self, topics: set[Topic]) -> None:
        return
